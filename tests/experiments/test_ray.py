"""The Ray executor on a local instance (ray.init(num_cpus=2)); skipped where Ray is not installed."""

import os

import numpy as np
import pytest

from svrlens.experiments import RayExecutor, reproduce

from .conftest import differences, numbers, predictions, same_predictions, tiny_spec

ray = pytest.importorskip("ray", reason="Ray is an optional extra (pip install 'svrlens[ray]')")


@pytest.fixture(scope="module")
def local_ray():
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_ray_executor_gives_the_serial_numbers(local_ray, serial_sweep, tmp_path):
    """Ray workers (one BLAS thread by Ray's default, pinned like every run) against serial runs
    made in this process after other work: bit for bit, predictions included."""
    serial_out, serial = serial_sweep
    results = reproduce(tiny_spec(), tmp_path, executor=RayExecutor(cpus_per_run=1), progress=False)
    assert results["provenance"]["executor"] == "ray"
    assert numbers(results) == numbers(serial), differences(numbers(results), numbers(serial))[:10]
    assert same_predictions(predictions(tmp_path), predictions(serial_out, tiny_spec().runs()))


def test_ray_block_tasks_match_the_local_matrix(local_ray, rng):
    from svrlens.experiments.executors import ray_chamfer_matrix
    from svrlens.geometry import pairwise_chamfer

    a = rng.normal(size=(11, 40, 3)).astype(np.float32)
    b = rng.normal(size=(5, 40, 3)).astype(np.float32)
    blocked = ray_chamfer_matrix(block_pairs=0, block_rows=3)
    np.testing.assert_array_equal(blocked(a, b), pairwise_chamfer(a, b), strict=True)
    square = blocked(a)
    np.testing.assert_array_equal(square, pairwise_chamfer(a), strict=True)  # bit for bit, one triangle
    assert np.array_equal(square, square.T) and not np.diag(square).any()


def test_the_symmetric_block_path_computes_one_triangle(rng):
    """Without Ray: the row blocks the tasks compute cover the upper triangle only (each block
    its rows right of the diagonal), and assemble into exactly pairwise_chamfer(a)."""
    from svrlens.evaluation.blocks import block_ranges
    from svrlens.experiments.executors import assemble_symmetric, upper_rows
    from svrlens.geometry import pairwise_chamfer

    a = rng.normal(size=(13, 30, 3))  # float64: the input's dtype is kept
    ranges = block_ranges(13, 4)
    blocks = [upper_rows(a, start, stop) for start, stop in ranges]
    assert [b.shape for b in blocks] == [(4, 13), (4, 9), (4, 5), (1, 1)]
    assert sum(b.size for b in blocks) < 13 * 13 * 0.7  # about half the pairs of all rows
    square = assemble_symmetric(13, ranges, blocks)
    assert np.array_equal(square, pairwise_chamfer(a))


def test_no_cluster_at_the_address_is_one_line_not_a_traceback(monkeypatch):
    """ray.init raises ConnectionError when nothing answers at --ray-address (measured: "auto"
    with no cluster at once; an unreachable host after minutes, so it is simulated here)."""
    from svrlens.errors import InputError

    def no_cluster(**kwargs):
        raise ConnectionError("Could not find any running Ray instance.")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", no_cluster)
    with pytest.raises(InputError, match=r"--ray-address auto: no Ray cluster answered \(Could not find"):
        RayExecutor(address="auto").run_settings()
