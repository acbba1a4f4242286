"""pinned_numerics: a run's numerical settings are set for the run and the caller's restored."""

import numba
import pytest
import torch
from threadpoolctl import threadpool_info

from svrlens.experiments.environment import numerics_in_force, pinned_numerics

from .conftest import disturbed_process


def test_pins_threads_and_precision_then_restores_them():
    with disturbed_process() as disturbed:
        outside = numerics_in_force()
        assert outside["float32_matmul_precision"] == "medium"
        with pinned_numerics(1):
            inside = numerics_in_force()
            assert inside["torch_threads"] == 1 and inside["numba_threads"] == 1
            assert inside["blas_openmp_threads"] == [1]
            assert inside["float32_matmul_precision"] == "highest" and not inside["flush_denormal"]
            conv = getattr(torch.backends.mkldnn, "conv", None)
            assert getattr(conv, "fp32_precision", "none") == "none"
        assert numerics_in_force() == outside
        assert outside["torch_threads"] == disturbed["torch_threads"]
        assert outside["flush_denormal"] == disturbed["flushes"]


def test_restores_after_an_error():
    before = (torch.get_num_threads(), numba.get_num_threads(), [p["num_threads"] for p in threadpool_info()])
    with pytest.raises(RuntimeError, match="inside"):
        with pinned_numerics(1):
            raise RuntimeError("inside")
    after = (torch.get_num_threads(), numba.get_num_threads(), [p["num_threads"] for p in threadpool_info()])
    assert after == before
    with pytest.raises(ValueError, match="threads: expected ≥ 1, found 0"):
        with pinned_numerics(0):
            pass
