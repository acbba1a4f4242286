import numpy as np
import pytest
import torch

from svrlens.geometry import chamfer_distance, fscore
from tests.conftest import DEVICES

from .reference import chamfer, precision_recall_f, sq_dists

SIZES = [(1, 1), (1, 7), (7, 1), (5, 3), (64, 33), (130, 257)]


def _clouds(rng, batch, p1, p2, dtype):
    x = rng.standard_normal((batch, p1, 3))
    y = rng.standard_normal((batch, p2, 3))
    return torch.tensor(x, dtype=dtype), torch.tensor(y, dtype=dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("squared", [False, True])
@pytest.mark.parametrize("p1,p2", SIZES)
@pytest.mark.parametrize("requires_grad", [False, True])
def test_chamfer_matches_float64_reference(rng, device, dtype, squared, p1, p2, requires_grad):
    x, y = _clouds(rng, 3, p1, p2, dtype)
    x, y = x.to(device).requires_grad_(requires_grad), y.to(device)
    got = chamfer_distance(x, y, squared=squared)
    assert got.shape == (3,) and got.dtype == dtype and got.device.type == device
    want = [chamfer(x[b].detach().cpu().numpy(), y[b].cpu().numpy(), squared) for b in range(3)]
    rtol = 1e-5 if dtype == torch.float32 else 1e-12
    np.testing.assert_allclose(got.detach().cpu().numpy(), want, rtol=rtol)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("requires_grad", [False, True])
def test_ragged_batches_ignore_padding(rng, device, requires_grad):
    x, y = _clouds(rng, 4, 40, 25, torch.float64)
    x_len = torch.tensor([40, 1, 17, 33])
    y_len = torch.tensor([3, 25, 1, 12])
    # Padding that would dominate the result if it were not masked.
    x[1, 1:] = 1e6
    y[0, 3:] = -1e6
    x, y = x.to(device).requires_grad_(requires_grad), y.to(device)
    for squared in (False, True):
        got = chamfer_distance(x, y, x_lengths=x_len, y_lengths=y_len, squared=squared)
        want = [chamfer(x[b, : x_len[b]].detach().cpu(), y[b, : y_len[b]].cpu(), squared) for b in range(4)]
        np.testing.assert_allclose(got.detach().cpu().numpy(), want, rtol=1e-12)
    f = fscore(x.detach(), y, 1.0, x_lengths=x_len, y_lengths=y_len)
    want_f = [
        precision_recall_f(x[b, : x_len[b]].detach().cpu(), y[b, : y_len[b]].cpu(), 1.0) for b in range(4)
    ]
    np.testing.assert_allclose(torch.stack(f).T.cpu().numpy(), want_f, rtol=1e-12)


def test_near_duplicates_do_not_cancel():
    """|x|²+|y|²−2x·y in float32 reads a ~1e-3 gap at coordinates ~1e3 as 0 or garbage."""
    base = torch.full((1, 8, 3), 1000.0)
    base[0, :, 0] += torch.arange(8.0)
    y = base.clone()
    y[0, :, 2] += 2.0**-10  # exactly representable at 1000 in float32
    got = chamfer_distance(base, y)
    np.testing.assert_allclose(got.numpy(), [2 * 2.0**-10], rtol=1e-6)
    assert chamfer_distance(base, base.clone()).item() == 0.0


def test_identical_clouds_have_finite_zero_gradients():
    x = torch.randn(2, 50, 3, dtype=torch.float64, requires_grad=True)
    y = x.detach().clone().requires_grad_(True)
    loss = chamfer_distance(x, y).sum()
    loss.backward()
    assert loss.item() == 0.0
    assert torch.isfinite(x.grad).all() and torch.isfinite(y.grad).all()
    assert x.grad.abs().max() == 0.0


def test_duplicated_points_within_a_cloud(rng):
    x = torch.tensor(rng.standard_normal((1, 10, 3)))
    x = torch.cat([x, x[:, :4]], 1)  # four points twice
    y = torch.tensor(rng.standard_normal((1, 6, 3)))
    y = torch.cat([y, y], 1)
    np.testing.assert_allclose(chamfer_distance(x, y).numpy(), [chamfer(x[0], y[0])], rtol=1e-12)


@pytest.mark.parametrize("squared", [False, True])
def test_gradcheck(rng, squared):
    x = torch.tensor(rng.standard_normal((2, 6, 3)), requires_grad=True)
    y = torch.tensor(rng.standard_normal((2, 5, 3)), requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda a, b: chamfer_distance(a, b, squared=squared), (x, y), eps=1e-6, atol=1e-7
    )


def test_gradient_matches_dense_autograd(rng):
    x = torch.tensor(rng.standard_normal((3, 30, 3)), requires_grad=True)
    y = torch.tensor(rng.standard_normal((3, 20, 3)), requires_grad=True)
    chamfer_distance(x, y).sum().backward()
    x2 = x.detach().clone().requires_grad_(True)
    y2 = y.detach().clone().requires_grad_(True)
    d = torch.cdist(x2, y2, compute_mode="donot_use_mm_for_euclid_dist")
    (d.min(2).values.mean(1) + d.min(1).values.mean(1)).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad)
    torch.testing.assert_close(y.grad, y2.grad)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("p1,p2", SIZES)
def test_fscore_matches_reference(rng, device, p1, p2):
    x, y = _clouds(rng, 3, p1, p2, torch.float64)
    thresholds = [0.05, 0.5, 1.0, 3.0]
    got = fscore(x.to(device), y.to(device), thresholds)
    assert got.fscore.shape == (3, 4)
    for b in range(3):
        for t, d in enumerate(thresholds):
            want = precision_recall_f(x[b], y[b], d)
            assert (
                got.fscore[b, t].item(),
                got.precision[b, t].item(),
                got.recall[b, t].item(),
            ) == pytest.approx(want, abs=1e-12)
    single = fscore(x, y, 0.5)
    assert single.fscore.shape == (3,)
    torch.testing.assert_close(single.fscore, got.fscore[:, 1].cpu())


def test_fscore_edge_cases():
    x = torch.zeros(1, 4, 3, dtype=torch.float64)
    y = torch.zeros(1, 2, 3, dtype=torch.float64)
    y[0, 1, 0] = 1.0  # one ground-truth point at distance exactly 1
    # Strict <: the point at distance exactly 1 does not count at d = 1.
    f = fscore(x, y, 1.0)
    assert f.precision.item() == 1.0 and f.recall.item() == 0.5
    assert f.fscore.item() == pytest.approx(2 * 0.5 / 1.5)
    # All points within: F = 1; all beyond: P = R = 0 and F = 0, not NaN.
    assert fscore(x, y, 1.5).fscore.item() == 1.0
    far = fscore(x, y + 10.0, 1.0)
    assert far.fscore.item() == 0.0 and far.precision.item() == 0.0 and far.recall.item() == 0.0
    assert fscore(x, x, 0.0).fscore.item() == 0.0  # nothing is < 0


def test_kaolin_mixed_count_bug_is_not_reproduced():
    """All predicted points hit, half of the ground truth missed ⇒ F = 2/3 (Kaolin reports 0.8)."""
    gt = torch.tensor([[[0.0, 0, 0], [0, 0, 0.1], [5, 0, 0], [5, 0, 0.1]]])
    pred = torch.tensor([[[0.0, 0, 0.05], [0, 0, 0.02]]])
    f = fscore(pred, gt, 0.2)
    assert f.precision.item() == 1.0 and f.recall.item() == 0.5
    assert f.fscore.item() == pytest.approx(2 / 3)


def test_numpy_inputs_accepted(rng):
    x = rng.standard_normal((2, 9, 3))
    y = rng.standard_normal((2, 4, 3))
    got = chamfer_distance(x, y)
    assert isinstance(got, torch.Tensor)
    np.testing.assert_allclose(got.numpy(), [chamfer(x[b], y[b]) for b in range(2)], rtol=1e-12)


@pytest.mark.parametrize(
    "x,y,kwargs,message",
    [
        (torch.zeros(2, 5, 2), torch.zeros(2, 5, 3), {}, r"x: expected shape \(B, P, 3\), found \(2, 5, 2\)"),
        (torch.zeros(5, 3), torch.zeros(2, 5, 3), {}, r"x: expected shape \(B, P, 3\), found \(5, 3\)"),
        (torch.zeros(2, 0, 3), torch.zeros(2, 5, 3), {}, r"x: expected non-empty clouds, found P=0"),
        (torch.zeros(0, 4, 3), torch.zeros(0, 5, 3), {}, r"x: expected at least one cloud"),
        (torch.zeros(2, 5, 3), torch.zeros(3, 5, 3), {}, r"expected the same batch size, found 2 and 3"),
        (
            torch.zeros(2, 5, 3, dtype=torch.int64),
            torch.zeros(2, 5, 3),
            {},
            r"x: expected a floating point dtype, found torch.int64",
        ),
        (
            torch.tensor([[[0.0, float("nan"), 0.0]]]),
            torch.zeros(1, 5, 3),
            {},
            r"x: expected finite coordinates, found NaN or inf",
        ),
        (
            torch.zeros(1, 5, 3),
            torch.tensor([[[0.0, float("inf"), 0.0]]]),
            {},
            r"y: expected finite coordinates",
        ),
        (
            torch.zeros(2, 5, 3),
            torch.zeros(2, 5, 3),
            {"x_lengths": torch.tensor([5, 0])},
            r"x_lengths: expected every cloud to have ≥ 1 point, found an empty cloud",
        ),
        (
            torch.zeros(2, 5, 3),
            torch.zeros(2, 5, 3),
            {"y_lengths": torch.tensor([5, 6])},
            r"y_lengths: expected lengths ≤ P=5, found 6",
        ),
        (
            torch.zeros(2, 5, 3),
            torch.zeros(2, 5, 3),
            {"x_lengths": torch.tensor([5])},
            r"x_lengths: expected shape \(2,\), found \(1,\)",
        ),
        (
            torch.zeros(2, 5, 3),
            torch.zeros(2, 5, 3),
            {"x_lengths": torch.tensor([5.0, 2.0])},
            r"x_lengths: expected an integer dtype",
        ),
        (
            [[[0.0, 0.0, 0.0]]],
            torch.zeros(1, 5, 3),
            {},
            r"x: expected a torch.Tensor or numpy.ndarray, found list",
        ),
    ],
)
def test_input_errors(x, y, kwargs, message):
    with pytest.raises(ValueError, match=message):
        chamfer_distance(x, y, **kwargs)
    with pytest.raises(ValueError, match=message):
        fscore(x, y, 0.1, **kwargs)


def test_nan_in_padding_is_allowed():
    x = torch.zeros(1, 4, 3)
    x[0, 2:] = float("nan")
    assert chamfer_distance(x, torch.zeros(1, 2, 3), x_lengths=torch.tensor([2])).item() == 0.0


@pytest.mark.parametrize(
    "threshold,message",
    [
        (-0.1, "expected finite values ≥ 0"),
        (float("nan"), "expected finite values"),
        ([[0.1]], "expected a float or a non-empty 1-D"),
        ([], "non-empty 1-D"),
    ],
)
def test_threshold_errors(threshold, message):
    with pytest.raises(ValueError, match=message):
        fscore(torch.zeros(1, 2, 3), torch.zeros(1, 2, 3), threshold)


def test_reference_self_check():
    """The reference itself, on a hand-computed case."""
    x = np.array([[0.0, 0, 0], [3, 0, 0]])
    y = np.array([[0.0, 4, 0]])
    assert sq_dists(x, y).tolist() == [[16.0], [25.0]]
    assert chamfer(x, y) == pytest.approx((4 + 5) / 2 + 4)
