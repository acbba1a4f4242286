"""Executors: how the runs of a sweep are carried out. One interface, three implementations.

- :class:`SerialExecutor`: one run after another in this process; no Ray needed.
- :class:`ProcessExecutor`: ``jobs`` runs at once in worker processes on this machine; no Ray
  needed. ``svrlens reproduce`` uses it on a CPU, one single-threaded run per core: on 2 cores
  the laptop preset took 41 min against 59 min for one two-thread run at a time.
- :class:`RayExecutor`: each run is a Ray task with declared resources (CPUs, and 1 GPU when the
  cluster has one); inside a run, Chamfer matrices of more than ``block_pairs`` pairs are split
  into row-block tasks (:func:`svrlens.evaluation.blocks.chamfer_block`). Data and run
  directories live under the sweep's output path, which cluster nodes should share; a worker
  that does not see the data regenerates it (it is deterministic), and run records travel back
  through the object store, so ``results.json`` is complete either way.

All yield each run's record as it finishes. A run's numbers depend on its spec, on the number
of CPU threads it runs with (floating-point reduction order) and on the device kind, so an
executor's :meth:`run_settings` put both into every run's spec (and identity), and
:func:`~svrlens.experiments.runs.execute_run` pins them, with the rest of the numerical state, for
the run (:mod:`.environment`). All default to one thread per run: then the numbers do not depend
on how many cores a machine has, nor on which executor ran them, nor on what ran before in the
same process.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Iterator

import numpy as np
from tqdm.auto import tqdm

from svrlens.errors import InputError

from .runs import epochs_done, execute_run, prepare_data
from .spec import RunSpec


def available_cpus() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _cpu_jobs(threads: int) -> int:
    """Runs at once that fill this machine's cores at ``threads`` threads each (at least 1)."""
    return max(1, available_cpus() // threads)


class SerialExecutor:
    """Runs in this process, in order; per-run progress bars below the sweep's.

    Parameters
    ----------
    threads : int or None, default=1
        CPU threads of each run (torch, numba, BLAS and OpenMP); None: torch's current setting.
        The process's own settings are restored after each run.
    """

    name = "serial"

    def __init__(self, *, threads: int | None = 1):
        if threads is not None and threads < 1:
            raise ValueError(f"expected threads ≥ 1, found {threads}")
        self.threads = threads

    def run_settings(self) -> dict:
        """``threads`` and ``device`` for :meth:`ExperimentSpec.runs` (None: from each config)."""
        import torch

        return {"threads": self.threads or torch.get_num_threads(), "device": None}

    def describe(self) -> dict:
        return {"executor": self.name, "threads_per_run": self.run_settings()["threads"]}

    def run(self, runs: list[RunSpec], out, *, progress: bool = True) -> Iterator[dict]:
        for run in runs:
            yield execute_run(run, out, progress=progress)


class _EpochBar(tqdm):
    """Training progress over all runs of a parallel executor, read from the runs' training logs
    (workers train without bars of their own; on a cluster this needs the shared ``--out``).

    Counted in training samples seen (epochs × training-set size), not epochs: a 1.1.n epoch
    (100 samples) costs five 1.2.n epochs (20), and an epoch count made the remaining-time
    estimate three times too long at the start of the quick preset (measured: 27 ms a sample
    in both families on a 2-core EPYC), since its 1.1.n runs go first."""

    def __init__(self, out, runs: list[RunSpec], *, progress: bool, desc: str):
        self.out, self.runs = out, runs
        self.samples = [_train_samples(out, run) if progress else 1 for run in runs]
        super().__init__(
            total=sum(run.train.epochs * n for run, n in zip(runs, self.samples)),
            disable=not progress,
            desc=desc,
            unit="sample",
            unit_scale=True,
            leave=False,
            dynamic_ncols=True,
        )

    def refresh_from_logs(self) -> None:
        if not self.disable:
            done = sum(epochs_done(self.out, run) * n for run, n in zip(self.runs, self.samples))
            self.update(done - self.n)


def _train_samples(out, run: RunSpec) -> int:
    """Training samples of a run's (already prepared) set, from its manifest; 1 where unreadable
    (the bar then counts that run's epochs)."""
    try:
        manifest = json.loads((prepare_data(out, run) / "manifest.json").read_text())
        return max(1, len(manifest["splits"]["train"]))
    except (OSError, ValueError, KeyError, TypeError):
        return 1


def _process_task(run: RunSpec, out: str) -> dict:
    return execute_run(run, out, progress=False)


def exit_with_parent(parent: int, poll_seconds: float = 1.0) -> None:
    """Worker initializer: end this process when ``parent`` (the sweep's process) is gone.

    Why: a sweep killed by a signal it does not handle (``kill PID``: SIGTERM, or SIGKILL) leaves
    its pool's workers alive (seen here: orphaned workers went on training queued runs
    into the output directory beside the next sweep). A kill mid-run is safe (checkpoints and
    records are written under a temporary name and renamed), so the watcher simply exits.
    """
    import os
    import threading
    import time

    def watch():
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="svrlens-exit-with-parent").start()


class ProcessExecutor:
    """Runs ``jobs`` runs at once, each in a worker process of this machine with ``threads`` threads.

    Workers are spawned (not forked: a forked OpenMP runtime can deadlock); every run pins its
    threads itself, so it gives the same numbers here as in :class:`SerialExecutor` or
    :class:`RayExecutor` with the same thread count. A failing run re-raises its error here.

    Parameters
    ----------
    jobs : int or None, default=None
        Runs at once; None: one per available core divided by ``threads`` (at least 1).
    threads : int, default=1
        CPU threads of torch and numba in each run.
    """

    name = "processes"

    def __init__(self, *, jobs: int | None = None, threads: int = 1):
        if threads < 1 or (jobs is not None and jobs < 1):
            raise ValueError(f"expected jobs ≥ 1 and threads ≥ 1, found {jobs} and {threads}")
        self.threads = threads
        self.jobs = jobs or _cpu_jobs(threads)

    def run_settings(self) -> dict:
        return {"threads": self.threads, "device": None}

    def describe(self) -> dict:
        return {"executor": self.name, "jobs": self.jobs, "threads_per_run": self.threads}

    def run(self, runs: list[RunSpec], out, *, progress: bool = True) -> Iterator[dict]:
        if not runs:
            return
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=min(self.jobs, len(runs)),
            mp_context=context,
            initializer=exit_with_parent,
            initargs=(os.getpid(),),
        ) as pool:
            pending = {pool.submit(_process_task, run, str(Path(out).resolve())) for run in runs}
            with _EpochBar(
                out, runs, progress=progress, desc=f"training, {self.jobs} runs at once"
            ) as epochs:
                try:
                    while pending:
                        done, pending = wait(pending, timeout=2.0, return_when=FIRST_COMPLETED)
                        epochs.refresh_from_logs()
                        for future in done:
                            yield future.result()
                finally:  # an error or an interrupt: start nothing new (running runs resume next time)
                    for future in pending:
                        future.cancel()


def local_executor(*, jobs: int | None = None, threads: int = 1):
    """The executor for this machine: ``jobs`` worker processes (default: one per core, divided by
    ``threads``; 1 when torch sees a GPU, which the runs share), or in-process serial for 1 job."""
    if jobs is None:
        import torch

        jobs = 1 if torch.cuda.is_available() else _cpu_jobs(threads)
    return SerialExecutor(threads=threads) if jobs == 1 else ProcessExecutor(jobs=jobs, threads=threads)


def _import_ray():
    try:
        import ray
    except ImportError:
        raise InputError("the Ray executor needs Ray: pip install 'svrlens[ray]'") from None
    return ray


def upper_rows(a, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` of the symmetric Chamfer matrix of ``a`` from column ``start`` on:
    (stop − start, N − start), each pair (i, j ≥ i) computed as ``pairwise_chamfer(a)`` does."""
    from svrlens.geometry import pairwise_chamfer

    return pairwise_chamfer(np.asarray(a[start:stop]), np.asarray(a[start:]))


def assemble_symmetric(n: int, ranges, blocks) -> np.ndarray:
    """The (N, N) matrix from :func:`upper_rows` blocks: upper triangle copied, mirrored below,
    zero diagonal (exactly symmetric, as ``pairwise_chamfer(a)`` returns it)."""
    out = np.zeros((n, n), np.float64)
    for (start, stop), block in zip(ranges, blocks):
        for k, i in enumerate(range(start, stop)):
            out[i, i + 1 :] = block[k, i - start + 1 :]
            out[i + 1 :, i] = block[k, i - start + 1 :]
    return out


def ray_chamfer_matrix(block_pairs: int, block_rows: int = 256):
    """A ``chamfer_matrix(a, b=None)`` that computes matrices of ≥ ``block_pairs`` pairs as Ray
    tasks of ``block_rows`` rows each (inputs shipped once through the object store).

    For ``b=None`` only the upper triangle is computed (each task: its rows, right of the
    diagonal), then mirrored: bit for bit ``pairwise_chamfer(a)``, in half the work of all rows.
    """
    from svrlens.evaluation.blocks import block_ranges, chamfer_block
    from svrlens.geometry import pairwise_chamfer

    ray = _import_ray()
    block = ray.remote(chamfer_block)
    upper = ray.remote(upper_rows)

    def chamfer_matrix(a, b=None):
        n_cols = len(a) if b is None else len(b)
        if len(a) * n_cols < block_pairs:
            return pairwise_chamfer(a, b)
        ranges = block_ranges(len(a), block_rows)
        a_ref = ray.put(np.ascontiguousarray(a))
        if b is None:
            return assemble_symmetric(
                len(a), ranges, ray.get([upper.remote(a_ref, start, stop) for start, stop in ranges])
            )
        b_ref = ray.put(np.ascontiguousarray(b))
        return np.concatenate(ray.get([block.remote(a_ref, b_ref, start, stop) for start, stop in ranges]))

    return chamfer_matrix


def _ray_task(run: RunSpec, out: str, block_pairs: int) -> dict:
    return execute_run(run, out, progress=False, chamfer_matrix=ray_chamfer_matrix(block_pairs))


class RayExecutor:
    """Runs as Ray tasks on a local instance or a cluster.

    Parameters
    ----------
    address : str, default=None
        Cluster address (``"auto"``, ``"ray://host:10001"``); None uses ``RAY_ADDRESS`` if set,
        else starts a local instance. An already initialised Ray is used as it is.
    num_cpus : int, default=None
        CPUs of a local instance (default: all).
    cpus_per_run : int, default=1
        CPUs each run task declares, and the threads it runs with.
    block_pairs : int, default=4,000,000
        Chamfer matrices with at least this many pairs are computed as row-block tasks.

    Runs are planned for CUDA (``device`` "auto") when the cluster has GPUs; each such task then
    declares one GPU.
    """

    name = "ray"

    def __init__(
        self,
        *,
        address: str | None = None,
        num_cpus: int | None = None,
        cpus_per_run: int = 1,
        block_pairs: int = 4_000_000,
    ):
        if cpus_per_run < 1 or block_pairs < 0:
            raise ValueError(
                f"expected cpus_per_run ≥ 1 and block_pairs ≥ 0, found {cpus_per_run} and {block_pairs}"
            )
        self.address = address or os.environ.get("RAY_ADDRESS")
        self.num_cpus = num_cpus
        self.cpus_per_run = cpus_per_run
        self.block_pairs = block_pairs
        self._started_here = False

    def _connect(self):
        ray = _import_ray()
        if not ray.is_initialized():
            try:
                ray.init(
                    address=self.address,
                    num_cpus=None if self.address else self.num_cpus,
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                )
            except ConnectionError as error:  # no cluster at that address: the user's, not a bug
                raise InputError(f"--ray-address {self.address}: no Ray cluster answered ({error})") from None
            self._started_here = True
        return ray

    def run_settings(self) -> dict:
        """Connects to Ray (a local instance is started here and stopped at the end of
        :meth:`run`) to see whether the cluster has GPUs."""
        gpus = self._connect().cluster_resources().get("GPU", 0) >= 1
        return {"threads": self.cpus_per_run, "device": "cuda" if gpus else "cpu"}

    def describe(self) -> dict:
        return {
            "executor": self.name,
            "address": self.address or "local",
            "threads_per_run": self.cpus_per_run,
            "block_pairs": self.block_pairs,
        }

    def run(self, runs: list[RunSpec], out, *, progress: bool = True) -> Iterator[dict]:
        ray = self._connect()
        try:
            task = ray.remote(_ray_task)
            pending = [
                task.options(num_cpus=self.cpus_per_run, num_gpus=int(run.device == "cuda")).remote(
                    run, str(Path(out).resolve()), self.block_pairs
                )
                for run in runs
            ]
            with _EpochBar(out, runs, progress=progress, desc="training (Ray)") as epochs:
                while pending:
                    done, pending = ray.wait(pending, num_returns=1, timeout=2.0)
                    epochs.refresh_from_logs()
                    for ref in done:
                        yield ray.get(ref)
        finally:
            if self._started_here:
                ray.shutdown()
                self._started_here = False
