"""The process state a run's numbers depend on, pinned for the run and restored after it.

A run's numbers must be a function of its spec alone, whichever executor runs it and whatever
ran before it in the same process (a notebook, the test suite, an earlier run). Outside the
spec they depend on:

- CPU threads (floating-point reduction order): torch's intra-op threads, numba's (the
  affinity-propagation kernel splits its column sums by thread count) and the BLAS / OpenMP
  pools of numpy, scipy and scikit-learn. Ray starts its workers with ``OMP_NUM_THREADS=1``
  (one BLAS thread) while a spawned process or the parent keep the machine's default: measured
  here, one thread against two in the same sweep. Pools are limited when the run starts, so the
  libraries that load them lazily (scipy's BLAS, scikit-learn's OpenMP) are loaded first.
- torch's float32 precision modes: ``torch.set_float32_matmul_precision("medium")`` lets oneDNN
  run float32 matmuls in bfloat16 (measured here: every number of the tiny test sweep changes),
  and ``torch.backends.mkldnn.conv.fp32_precision`` does the same for convolutions.
- Flushing denormals to zero (``torch.set_flush_denormal``, or a library built with fast-math).

:func:`pinned_numerics` sets each to its fresh-process value with ``threads`` threads and restores
the caller's settings on exit. The torch random generator is the training's to seed and fork
(:func:`svrlens.training.train` leaves the caller's unchanged); nothing else draws from a
global generator.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import Iterator


def _flushes_denormals() -> bool:
    """Whether this thread's floating-point unit flushes denormals (FTZ or DAZ)."""
    import torch

    return bool(torch.tensor([1e-310], dtype=torch.float64).mul(1.0).item() == 0.0)


def _precision_knobs():
    """(object, attribute, fresh-process value) of the float32 precision switches this torch has."""
    import torch

    knobs = [(torch.backends.cudnn, "benchmark", False), (torch.backends.cudnn, "allow_tf32", True)]
    mkldnn = torch.backends.mkldnn
    for part in ("matmul", "conv", "rnn"):
        if hasattr(getattr(mkldnn, part, None), "fp32_precision"):
            knobs.append((getattr(mkldnn, part), "fp32_precision", "none"))
    return knobs


@contextmanager
def pinned_numerics(threads: int) -> Iterator[None]:
    """Run the body with ``threads`` CPU threads everywhere and default float32 precision.

    Read the settings in force with :func:`numerics_in_force` inside the body. Every setting is
    restored on exit, errors included. Raises ``ValueError`` for ``threads`` < 1.
    """
    import numba
    import scipy.linalg  # noqa: F401  (loads scipy's OpenBLAS, so that it is limited too)
    import sklearn.utils._openmp_helpers  # noqa: F401  (loads scikit-learn's OpenMP runtime)
    import torch
    from threadpoolctl import threadpool_limits

    if threads < 1:
        raise ValueError(f"threads: expected ≥ 1, found {threads}")
    saved_torch, saved_numba = torch.get_num_threads(), numba.get_num_threads()
    saved_matmul = torch.get_float32_matmul_precision()
    saved_knobs = [(obj, name, getattr(obj, name)) for obj, name, _ in _precision_knobs()]
    saved_flush = _flushes_denormals()
    with ExitStack() as restore:
        # numba first: launching its OpenMP layer resets the OpenMP thread count torch reads.
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        restore.callback(numba.set_num_threads, saved_numba)
        torch.set_num_threads(threads)
        restore.callback(torch.set_num_threads, saved_torch)
        restore.enter_context(threadpool_limits(limits=threads))  # BLAS and OpenMP pools
        torch.set_float32_matmul_precision("highest")
        restore.callback(torch.set_float32_matmul_precision, saved_matmul)
        for obj, name, value in _precision_knobs():
            setattr(obj, name, value)
        restore.callback(lambda: [setattr(obj, name, value) for obj, name, value in saved_knobs])
        if saved_flush:
            torch.set_flush_denormal(False)
            restore.callback(torch.set_flush_denormal, True)
        yield


def numerics_in_force() -> dict:
    """The settings :func:`pinned_numerics` controls, as they are now (for a run's record)."""
    import numba
    import torch
    from threadpoolctl import threadpool_info

    return {
        "torch_threads": torch.get_num_threads(),
        "numba_threads": numba.get_num_threads(),
        "blas_openmp_threads": sorted({int(pool["num_threads"]) for pool in threadpool_info()}),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "flush_denormal": _flushes_denormals(),
    }
