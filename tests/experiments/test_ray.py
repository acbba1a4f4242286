"""The Ray executor on a local instance (ray.init(num_cpus=2)); skipped where Ray is not installed."""

import os

import numpy as np
import pytest

from svrlens.experiments import RayExecutor, reproduce

from .conftest import numbers, tiny_spec

ray = pytest.importorskip("ray", reason="Ray is an optional extra (pip install 'svrlens[ray]')")


@pytest.fixture(scope="module")
def local_ray():
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_ray_executor_gives_the_serial_numbers(local_ray, serial_sweep, tmp_path):
    _, serial = serial_sweep
    results = reproduce(tiny_spec(), tmp_path, executor=RayExecutor(cpus_per_run=1), progress=False)
    assert results["provenance"]["executor"] == "ray"
    assert numbers(results) == numbers(serial)


def test_ray_block_tasks_match_the_local_matrix(local_ray, rng):
    from svrlens.experiments.executors import ray_chamfer_matrix
    from svrlens.geometry import pairwise_chamfer

    a = rng.normal(size=(11, 40, 3)).astype(np.float32)
    b = rng.normal(size=(5, 40, 3)).astype(np.float32)
    blocked = ray_chamfer_matrix(block_pairs=0, block_rows=3)
    np.testing.assert_allclose(blocked(a, b), pairwise_chamfer(a, b), rtol=1e-12)
    square = blocked(a)
    np.testing.assert_allclose(square, pairwise_chamfer(a), rtol=1e-6, atol=1e-9)
    assert np.array_equal(square, square.T) and not np.diag(square).any()
