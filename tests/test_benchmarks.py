"""Smoke-run every benchmark in its quick mode so none of them can rot."""

import pathlib
import subprocess
import sys

import pytest

BENCHMARKS = sorted((pathlib.Path(__file__).parents[1] / "benchmarks").glob("bench_*.py"))


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.name)
def test_benchmark_quick_mode(script):
    result = subprocess.run(
        [sys.executable, str(script), "--quick"], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "baseline" in result.stdout, result.stdout  # every benchmark reports ratios to a baseline


def test_gpu_check_refuses_plainly_without_a_gpu(tmp_path):
    """The GPU script runs where CUDA is (benchmarks/gpu_check.sh); elsewhere it says so and stops."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: run benchmarks/gpu_check.sh itself")
    script = pathlib.Path(__file__).parents[1] / "benchmarks" / "gpu_check.sh"
    result = subprocess.run(["bash", str(script), str(tmp_path / "out")], capture_output=True, text=True)
    assert result.returncode == 1 and "no CUDA device" in result.stderr
    assert not any((tmp_path / "out").iterdir())  # nothing measured, nothing written
