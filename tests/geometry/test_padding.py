"""Ragged batches: whatever the padding holds (0, 1e20, inf, NaN, on either side), the Chamfer
distance and the F-score equal the float64 reference of the valid points, on the gradient path
and the no-gradient path, through the numba kernels and the torch path (forced on the CPU, and on
CUDA where there is one), and gradients are finite (zero on the padding)."""

import numpy as np
import pytest
import torch

from svrlens.geometry import chamfer_distance, fscore, nearest

from .reference import chamfer, precision_recall_f

PADDING = [0.0, 1e20, float("inf"), float("nan")]
# (device, nearest-neighbour path): CPU tensors take the numba kernels unless the torch path is forced.
PATHS = [
    ("cpu", "numba"),
    ("cpu", "torch"),
    pytest.param(
        ("cuda", "torch"), marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
    ),
]


@pytest.fixture
def path(request, monkeypatch):
    device, kind = request.param
    if kind == "torch":
        monkeypatch.setattr(nearest, "_use_cpu_kernel", lambda x: False)
    return device


def _ragged(rng, pad, device):
    x = torch.tensor(rng.normal(size=(3, 9, 3)), dtype=torch.float32, device=device)
    y = torch.tensor(rng.normal(size=(3, 7, 3)), dtype=torch.float32, device=device)
    x_len = torch.tensor([9, 4, 1], device=device)
    y_len = torch.tensor([2, 7, 5], device=device)
    for clouds, lengths in ((x, x_len), (y, y_len)):
        for b, n in enumerate(lengths.tolist()):
            clouds[b, n:] = pad
    return x, y, x_len, y_len


@pytest.mark.parametrize("path", PATHS, indirect=True)
@pytest.mark.parametrize("pad", PADDING)
@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("squared", [False, True])
def test_padding_never_reaches_the_value_or_the_gradient(rng, path, pad, grad, squared):
    x, y, x_len, y_len = _ragged(rng, pad, path)
    x.requires_grad_(grad)
    y.requires_grad_(grad)
    got = chamfer_distance(x, y, x_lengths=x_len, y_lengths=y_len, squared=squared)
    xs, ys = x.detach().cpu().numpy(), y.detach().cpu().numpy()
    want = [
        chamfer(xs[b, :n], ys[b, :m], squared) for b, (n, m) in enumerate(zip(x_len.tolist(), y_len.tolist()))
    ]
    np.testing.assert_allclose(got.detach().cpu().numpy(), want, rtol=1e-5, atol=1e-6)
    if grad:
        got.sum().backward()
        for clouds, lengths in ((x, x_len), (y, y_len)):
            assert torch.isfinite(clouds.grad).all(), f"padding {pad} gave a non-finite gradient"
            for b, n in enumerate(lengths.tolist()):
                assert (clouds.grad[b, n:] == 0).all()  # padding is not a parameter of the loss
                assert clouds.grad[b, :n].abs().sum() > 0  # the valid points still learn


@pytest.mark.parametrize("path", PATHS, indirect=True)
@pytest.mark.parametrize("pad", PADDING)
def test_fscore_ignores_any_padding(rng, path, pad):
    x, y, x_len, y_len = _ragged(rng, pad, path)
    got = fscore(x, y, [0.5, 1.0], x_lengths=x_len, y_lengths=y_len)
    xs, ys = x.cpu().numpy(), y.cpu().numpy()
    for b, (n, m) in enumerate(zip(x_len.tolist(), y_len.tolist())):
        for t, threshold in enumerate([0.5, 1.0]):
            f, p, r = precision_recall_f(xs[b, :n], ys[b, :m], threshold)
            assert got.fscore[b, t].item() == pytest.approx(f)
            assert got.precision[b, t].item() == pytest.approx(p)
            assert got.recall[b, t].item() == pytest.approx(r)


@pytest.mark.parametrize("path", PATHS[:2], indirect=True)
@pytest.mark.parametrize("pad", PADDING)
def test_padding_on_one_side_only(rng, path, pad):
    """Only ``y`` ragged: the loss of the full ``x`` is the reference's, its gradient finite."""
    x = torch.tensor(rng.normal(size=(2, 5, 3)), dtype=torch.float64, requires_grad=True)
    y = torch.tensor(rng.normal(size=(2, 6, 3)), dtype=torch.float64)
    y[0, 3:] = pad
    got = chamfer_distance(x, y, y_lengths=torch.tensor([3, 6]))
    want = [chamfer(x[0].detach().numpy(), y[0, :3].numpy()), chamfer(x[1].detach().numpy(), y[1].numpy())]
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-12)
    got.sum().backward()
    assert torch.isfinite(x.grad).all()
