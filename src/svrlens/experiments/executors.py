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

All yield each run's record as it finishes. A run's numbers depend on its spec and on the
number of CPU threads it trains with (floating-point reduction order), so every executor sets that
explicitly (``threads`` / ``cpus_per_run``), and all default to one thread per run: then the
numbers do not depend on how many cores a machine has, nor on which executor ran them.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Iterator

from tqdm.auto import tqdm

from svrlens.errors import InputError

from .runs import epochs_done, execute_run
from .spec import RunSpec


def _set_threads(threads: int | None) -> int:
    """Set the CPU threads of torch *and* numba (numba first: its OpenMP layer, launched on first
    use, resets the shared OpenMP thread count, which torch then reads; measured in Ray workers,
    where a run set to 1 thread trained on 2 and gave other numbers)."""
    import numba
    import torch

    if threads:
        numba.set_num_threads(min(int(threads), numba.config.NUMBA_NUM_THREADS))
        torch.set_num_threads(int(threads))
    return torch.get_num_threads()


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
        CPU threads of torch and numba during the runs; None keeps the process's setting.
    """

    name = "serial"

    def __init__(self, *, threads: int | None = 1):
        if threads is not None and threads < 1:
            raise ValueError(f"expected threads ≥ 1, found {threads}")
        self.threads = threads

    def describe(self) -> dict:
        return {"executor": self.name, "threads_per_run": _set_threads(self.threads)}

    def run(self, runs: list[RunSpec], out, *, progress: bool = True) -> Iterator[dict]:
        _set_threads(self.threads)
        for run in runs:
            yield execute_run(run, out, progress=progress)


class _EpochBar(tqdm):
    """Epochs trained over all runs of a parallel executor, read from the runs' training logs
    (workers train without bars of their own; on a cluster this needs the shared ``--out``)."""

    def __init__(self, out, runs: list[RunSpec], *, progress: bool, desc: str):
        super().__init__(
            total=sum(run.train.epochs for run in runs),
            disable=not progress,
            desc=desc,
            unit="epoch",
            leave=False,
            dynamic_ncols=True,
        )
        self.out, self.runs = out, runs

    def refresh_from_logs(self) -> None:
        if not self.disable:
            self.update(sum(epochs_done(self.out, run) for run in self.runs) - self.n)


def _process_task(run: RunSpec, out: str) -> dict:
    return execute_run(run, out, progress=False)


class ProcessExecutor:
    """Runs ``jobs`` runs at once, each in a worker process of this machine with ``threads`` threads.

    Workers are spawned (not forked: a forked OpenMP runtime can deadlock) and set their threads
    before any run, so a run gives the same numbers here as in :class:`SerialExecutor` or
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

    def describe(self) -> dict:
        return {"executor": self.name, "jobs": self.jobs, "threads_per_run": self.threads}

    def run(self, runs: list[RunSpec], out, *, progress: bool = True) -> Iterator[dict]:
        if not runs:
            return
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=min(self.jobs, len(runs)),
            mp_context=context,
            initializer=_set_threads,
            initargs=(self.threads,),
        ) as pool:
            pending = {pool.submit(_process_task, run, str(Path(out).resolve())) for run in runs}
            with _EpochBar(out, runs, progress=progress, desc=f"epochs, {self.jobs} runs at once") as epochs:
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


def ray_chamfer_matrix(block_pairs: int, block_rows: int = 256):
    """A ``chamfer_matrix(a, b=None)`` that computes matrices of ≥ ``block_pairs`` pairs as Ray
    tasks of ``block_rows`` rows each (inputs shipped once through the object store)."""
    import numpy as np

    from svrlens.evaluation.blocks import block_ranges, chamfer_block
    from svrlens.geometry import pairwise_chamfer

    ray = _import_ray()
    block = ray.remote(chamfer_block)

    def chamfer_matrix(a, b=None):
        n_cols = len(a) if b is None else len(b)
        if len(a) * n_cols < block_pairs:
            return pairwise_chamfer(a, b)
        a_ref = ray.put(np.ascontiguousarray(a, np.float32))
        b_ref = a_ref if b is None else ray.put(np.ascontiguousarray(b, np.float32))
        rows = ray.get(
            [block.remote(a_ref, b_ref, start, stop) for start, stop in block_ranges(len(a), block_rows)]
        )
        out = np.concatenate(rows)
        if b is None:  # the same guarantees as pairwise_chamfer(a): exactly symmetric, zero diagonal
            out = (out + out.T) / 2
            np.fill_diagonal(out, 0.0)
        return out

    return chamfer_matrix


def _ray_task(run: RunSpec, out: str, block_pairs: int, threads: int) -> dict:
    _set_threads(threads)
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
        CPUs each run task declares, and the torch threads it trains with.
    block_pairs : int, default=4,000,000
        Chamfer matrices with at least this many pairs are computed as row-block tasks.
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

    def describe(self) -> dict:
        return {
            "executor": self.name,
            "address": self.address or "local",
            "threads_per_run": self.cpus_per_run,
            "block_pairs": self.block_pairs,
        }

    def run(self, runs: list[RunSpec], out, *, progress: bool = True) -> Iterator[dict]:
        ray = _import_ray()
        started_here = not ray.is_initialized()
        if started_here:
            ray.init(
                address=self.address,
                num_cpus=None if self.address else self.num_cpus,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        try:
            gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
            task = ray.remote(_ray_task).options(num_cpus=self.cpus_per_run, num_gpus=gpus)
            pending = [
                task.remote(run, str(Path(out).resolve()), self.block_pairs, self.cpus_per_run)
                for run in runs
            ]
            with _EpochBar(out, runs, progress=progress, desc="epochs (Ray)") as epochs:
                while pending:
                    done, pending = ray.wait(pending, num_returns=1, timeout=2.0)
                    epochs.refresh_from_logs()
                    for ref in done:
                        yield ray.get(ref)
        finally:
            if started_here:
                ray.shutdown()
