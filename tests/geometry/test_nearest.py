"""``sq_minima``: one padding convention (0) on every backend, valid entries equal to float64."""

import numpy as np
import pytest
import torch

from svrlens.geometry import nearest

from .reference import sq_dists

BACKENDS = [
    "cpu-numba",
    "cpu-torch",  # the chunked torch.cdist path, forced on the CPU
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")),
]


@pytest.fixture
def backend(request, monkeypatch):
    if request.param == "cpu-torch":
        monkeypatch.setattr(nearest, "_use_cpu_kernel", lambda x: False)
    return "cuda" if request.param == "cuda" else "cpu"


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_padding_is_zero_and_valid_entries_match_float64(rng, backend, dtype):
    x = torch.tensor(rng.standard_normal((4, 9, 3)), dtype=dtype, device=backend)
    y = torch.tensor(rng.standard_normal((4, 6, 3)), dtype=dtype, device=backend)
    x_len = torch.tensor([9, 1, 4, 7], device=backend)
    y_len = torch.tensor([2, 6, 1, 5], device=backend)
    rowmin, colmin = nearest.sq_minima(x, y, x_len, y_len)
    assert rowmin.shape == (4, 9) and colmin.shape == (4, 6)
    assert rowmin.dtype == dtype and rowmin.device.type == backend
    rtol = 1e-5 if dtype == torch.float32 else 1e-12
    for b in range(4):
        nx, ny = int(x_len[b]), int(y_len[b])
        d = sq_dists(x[b, :nx].cpu().numpy().astype(np.float64), y[b, :ny].cpu().numpy().astype(np.float64))
        np.testing.assert_allclose(rowmin[b, :nx].cpu().numpy(), d.min(1), rtol=rtol)
        np.testing.assert_allclose(colmin[b, :ny].cpu().numpy(), d.min(0), rtol=rtol)
        assert not rowmin[b, nx:].any() and not colmin[b, ny:].any()  # exactly 0, never inf


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_full_clouds_give_the_same_minima_on_every_backend(rng, backend):
    x = torch.tensor(rng.standard_normal((3, 33, 3)))
    y = torch.tensor(rng.standard_normal((3, 17, 3)))
    got = nearest.sq_minima(x.to(backend), y.to(backend))
    want = [sq_dists(x[b].numpy(), y[b].numpy()) for b in range(3)]
    np.testing.assert_allclose(got[0].cpu().numpy(), [d.min(1) for d in want], rtol=1e-12)
    np.testing.assert_allclose(got[1].cpu().numpy(), [d.min(0) for d in want], rtol=1e-12)
