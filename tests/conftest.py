"""Shared fixtures: small data generated in the test, and the devices to run on."""

import numpy as np
import pytest
import torch

DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")),
]


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
