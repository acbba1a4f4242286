"""A tiny experiment spec: a 60-shape cube-sphere base at 32 px, sets 1.2.1 and 1.2.7, a small
decoder trained for a few epochs. The whole sweep takes seconds and exercises every stage."""

import random
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch

from svrlens.data import SynthConfig
from svrlens.experiments import EvaluationConfig, ExperimentSpec, FamilyStudy, SerialExecutor, reproduce
from svrlens.models import ModelConfig
from svrlens.training import TrainConfig


def tiny_spec(*, epochs=3, sets=(1, 7), seeds=(0,), name="tiny") -> ExperimentSpec:
    train = TrainConfig(
        epochs=epochs,
        batch_size=16,
        val_every=2,
        model=ModelConfig(grid_size=4, decoder_width=8, decoder_blocks=1, eval_grid_size=6),
    )
    return ExperimentSpec(
        name=name,
        bases={
            "cube-sphere": SynthConfig(family="cube-sphere", n_shapes=60, n_points=36, image_size=32, seed=3)
        },
        studies=(FamilyStudy("1.2", train, tuple(sets)),),
        evaluation=EvaluationConfig(thresholds=(0.2, 0.4), n_bootstrap=200, null_references=5),
        seeds=tuple(seeds),
    ).validate()


TENDENCIES = ("image_tendency", "shape_tendency", "output_tendency")


def numbers(results: dict) -> dict:
    """Everything in results.json that a run computes (not timings, paths or provenance)."""
    keep = {}
    for name, entry in results["datasets"].items():
        keep[name] = {
            k: entry[k]
            for k in (
                *TENDENCIES,
                "model",
                "oracle_nn",
                "retrieval",
                "clustering",
                "case",
                "verdict",
                "statistic",
                "sampling_floor",
                "memorisation",
                "dataset_sha256",
                "train_morph",
            )
        }
    return keep


def differences(a, b, path: str = "") -> list:
    """(path, a, b) of every leaf where two results differ: what an equality assert should show."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(set(a) | set(b), key=str)
        return [d for k in keys for d in differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (u, v) in enumerate(zip(a, b)) for d in differences(u, v, f"{path}[{i}]")]
    return [] if a == b else [(path, a, b)]


def predictions(out, runs=None) -> dict:
    """Every run's test predictions (points and codewords) under a sweep's output directory; with
    ``runs``, only theirs (tests of the serial sweep add runs of changed specs to its directory)."""
    arrays = {}
    keep = None if runs is None else {run.directory for run in runs}
    for path in sorted(Path(out).glob("runs/*/train/predictions/test.npz")):
        if keep is not None and path.parents[2].name not in keep:
            continue
        with np.load(path, allow_pickle=False) as archive:
            arrays[path.parents[2].name] = {k: archive[k] for k in ("points", "codewords")}
    return arrays


def same_predictions(a: dict, b: dict) -> bool:
    """Bit for bit, run by run."""
    return a.keys() == b.keys() and all(
        np.array_equal(a[run][k], b[run][k]) for run in a for k in ("points", "codewords")
    )


@contextmanager
def disturbed_process():
    """What earlier work in a process may leave behind: other thread counts (torch, numba, BLAS /
    OpenMP), seeded global generators, reduced float32 precision, denormals flushed to zero.
    Restored on exit; a run must neither see nor change any of it."""
    import numba
    from threadpoolctl import threadpool_limits

    saved = (torch.get_num_threads(), numba.get_num_threads(), torch.get_float32_matmul_precision())
    conv = getattr(torch.backends.mkldnn, "conv", None)
    saved_conv = getattr(conv, "fp32_precision", None)
    blas = threadpool_limits(limits=1)
    torch.set_num_threads(2)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    torch.set_float32_matmul_precision("medium")
    if saved_conv is not None:
        conv.fp32_precision = "bf16"
    flushes = torch.set_flush_denormal(True)
    torch.manual_seed(12345)
    np.random.seed(7)
    random.seed(3)
    try:
        yield {"torch_threads": 2, "numba_threads": numba.config.NUMBA_NUM_THREADS, "flushes": flushes}
    finally:
        torch.set_flush_denormal(False)
        if saved_conv is not None:
            conv.fp32_precision = saved_conv
        torch.set_float32_matmul_precision(saved[2])
        numba.set_num_threads(saved[1])
        torch.set_num_threads(saved[0])
        blas.restore_original_limits()


@pytest.fixture(scope="session")
def serial_sweep(tmp_path_factory):
    """The tiny spec run serially with one thread per run, in this process after deliberately
    disturbing its state (see :func:`disturbed_process`): (output directory, results)."""
    import numba

    out = tmp_path_factory.mktemp("serial")
    with disturbed_process() as disturbed:
        rng_state = torch.get_rng_state()
        results = reproduce(tiny_spec(), out, executor=SerialExecutor(threads=1), progress=False)
        # The runs restored what they pinned, and left the caller's generator alone.
        assert torch.get_num_threads() == disturbed["torch_threads"]
        assert numba.get_num_threads() == disturbed["numba_threads"]
        assert torch.get_float32_matmul_precision() == "medium"
        assert torch.equal(torch.get_rng_state(), rng_state)
    return out, results
