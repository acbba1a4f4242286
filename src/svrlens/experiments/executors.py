"""Executors: how the runs of a sweep are carried out. One interface, two implementations.

- :class:`SerialExecutor` (default): one run after another in this process; no Ray needed.
- :class:`RayExecutor`: each run is a Ray task with declared resources (CPUs, and 1 GPU when the
  cluster has one); inside a run, Chamfer matrices of more than ``block_pairs`` pairs are split
  into row-block tasks (:func:`svrlens.evaluation.blocks.chamfer_block`). Data and run
  directories live under the sweep's output path, which cluster nodes should share; a worker
  that does not see the data regenerates it (it is deterministic), and run records travel back
  through the object store, so ``results.json`` is complete either way.

Both yield each run's record as it finishes. A run's numbers depend on its spec and on the
number of CPU threads it trains with (floating-point reduction order), so both executors set
that explicitly: ``threads`` (serial, default all cores) and ``cpus_per_run`` (Ray).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

from svrlens.errors import InputError

from .runs import execute_run
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


class SerialExecutor:
    """Runs in this process, in order; per-run progress bars below the sweep's."""

    name = "serial"

    def __init__(self, *, threads: int | None = None):
        self.threads = threads

    def describe(self) -> dict:
        return {"executor": self.name, "threads_per_run": _set_threads(self.threads)}

    def run(self, runs: list[RunSpec], out, *, progress: bool = True) -> Iterator[dict]:
        _set_threads(self.threads)
        for run in runs:
            yield execute_run(run, out, progress=progress)


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
        rows = ray.get([block.remote(a_ref, b_ref, start, stop) for start, stop in block_ranges(len(a), block_rows)])
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

    def __init__(self, *, address: str | None = None, num_cpus: int | None = None, cpus_per_run: int = 1, block_pairs: int = 4_000_000):
        if cpus_per_run < 1 or block_pairs < 0:
            raise ValueError(f"expected cpus_per_run ≥ 1 and block_pairs ≥ 0, found {cpus_per_run} and {block_pairs}")
        self.address = address or os.environ.get("RAY_ADDRESS")
        self.num_cpus = num_cpus
        self.cpus_per_run = cpus_per_run
        self.block_pairs = block_pairs

    def describe(self) -> dict:
        return {"executor": self.name, "address": self.address or "local", "threads_per_run": self.cpus_per_run, "block_pairs": self.block_pairs}

    def run(self, runs: list[RunSpec], out, *, progress: bool = True) -> Iterator[dict]:
        ray = _import_ray()
        started_here = not ray.is_initialized()
        if started_here:
            ray.init(address=self.address, num_cpus=None if self.address else self.num_cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
        try:
            gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
            task = ray.remote(_ray_task).options(num_cpus=self.cpus_per_run, num_gpus=gpus)
            pending = [task.remote(run, str(Path(out).resolve()), self.block_pairs, self.cpus_per_run) for run in runs]
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                yield ray.get(done[0])
        finally:
            if started_here:
                ray.shutdown()
