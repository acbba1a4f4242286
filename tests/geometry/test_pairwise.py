import numpy as np
import pytest
import torch

from svrlens.geometry import chamfer_distance, fscore, pairwise_chamfer, pairwise_fscore, pairwise_l1
from tests.conftest import DEVICES

from .reference import chamfer, precision_recall_f

BACKENDS = ["numba", "torch"]


def _sets(rng, na, nb, p1, p2):
    return rng.standard_normal((na, p1, 3)), rng.standard_normal((nb, p2, 3))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("squared", [False, True])
def test_pairwise_chamfer_rectangular(rng, backend, dtype, squared):
    a, b = _sets(rng, 7, 5, 33, 20)
    got = pairwise_chamfer(a.astype(dtype), b.astype(dtype), squared=squared, backend=backend)
    want = np.array([[chamfer(x, y, squared) for y in b] for x in a])
    assert isinstance(got, np.ndarray) and got.shape == (7, 5) and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_pairwise_chamfer_symmetric_exact(rng, backend):
    a = rng.standard_normal((9, 17, 3)).astype(np.float32)
    got = pairwise_chamfer(a, backend=backend)
    assert np.array_equal(got, got.T)
    assert np.all(np.diag(got) == 0.0)
    want = np.array([[chamfer(x, y) for y in a] for x in a])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-12)


def test_pairwise_matches_batched_chamfer(rng):
    a, b = _sets(rng, 4, 6, 50, 40)
    got = pairwise_chamfer(torch.tensor(a), torch.tensor(b))
    assert isinstance(got, torch.Tensor)
    for i in range(4):
        row = chamfer_distance(torch.tensor(a[i : i + 1]).expand(6, -1, -1), torch.tensor(b))
        torch.testing.assert_close(got[i], row)


@pytest.mark.parametrize("backend", BACKENDS)
def test_tiny_memory_budget_gives_same_matrix(rng, backend):
    a = rng.standard_normal((13, 16, 3))
    full = pairwise_chamfer(a, backend=backend)
    # 2 clouds a tile side: many tiles, including ragged edge tiles.
    tight = pairwise_chamfer(a, backend=backend, max_memory=2 * 2 * 3 * 16 * 8 * 2 + 4 * 200)
    np.testing.assert_array_equal(full, tight)
    b = rng.standard_normal((5, 16, 3))
    np.testing.assert_array_equal(
        pairwise_chamfer(a, b, backend=backend), pairwise_chamfer(a, b, backend=backend, max_memory=4000)
    )


def test_memory_budget_too_small_is_an_error(rng):
    with pytest.raises(ValueError, match="max_memory"):
        pairwise_chamfer(rng.standard_normal((3, 100, 3)), max_memory=10)


def test_single_cloud(rng):
    a = rng.standard_normal((1, 5, 3))
    assert pairwise_chamfer(a).tolist() == [[0.0]]
    assert pairwise_fscore(a, threshold=0.1).fscore.tolist() == [[1.0]]


@pytest.mark.parametrize("backend", BACKENDS)
def test_pairwise_fscore(rng, backend):
    a, b = _sets(rng, 5, 4, 30, 25)
    thresholds = [0.2, 0.6, 1.5]
    got = pairwise_fscore(a, b, thresholds, backend=backend)
    assert got.fscore.shape == (5, 4, 3)
    for i in range(5):
        for j in range(4):
            for t, d in enumerate(thresholds):
                want = precision_recall_f(a[i], b[j], d)
                assert (got.fscore[i, j, t], got.precision[i, j, t], got.recall[i, j, t]) == pytest.approx(
                    want, abs=1e-12
                )
    single = pairwise_fscore(a, b, 0.6, backend=backend)
    np.testing.assert_array_equal(single.fscore, got.fscore[:, :, 1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_pairwise_fscore_symmetric(rng, backend):
    a = rng.standard_normal((6, 20, 3))
    got = pairwise_fscore(a, threshold=0.7, backend=backend)
    assert np.array_equal(got.fscore, got.fscore.T)
    np.testing.assert_array_equal(got.precision, got.recall.T)
    assert np.all(np.diag(got.fscore) == 1.0)
    batched = fscore(torch.tensor(a[1:2]).expand(6, -1, -1), torch.tensor(a), 0.7)
    np.testing.assert_allclose(got.precision[1], batched.precision.numpy(), atol=1e-12)
    np.testing.assert_allclose(got.fscore[1], batched.fscore.numpy(), atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
def test_device_argument(rng, device):
    a = torch.tensor(rng.standard_normal((4, 12, 3)))
    got = pairwise_chamfer(a, device=device)
    assert got.device.type == device
    np.testing.assert_allclose(got.cpu().numpy(), pairwise_chamfer(a.numpy()), rtol=1e-12)


def test_progress_bar_counts_pairs(rng, capsys):
    a = rng.standard_normal((6, 8, 3))
    pairwise_chamfer(a, progress=True)
    assert "15/15" in capsys.readouterr().err


def test_pairwise_errors(rng):
    with pytest.raises(ValueError, match=r"a: expected shape \(B, P, 3\)"):
        pairwise_chamfer(rng.standard_normal((3, 4)))
    with pytest.raises(ValueError, match="b: expected finite coordinates"):
        pairwise_chamfer(rng.standard_normal((3, 4, 3)), np.full((2, 4, 3), np.nan))
    with pytest.raises(ValueError, match="backend: expected one of"):
        pairwise_chamfer(rng.standard_normal((3, 4, 3)), backend="fortran")
    with pytest.raises(ValueError, match="threshold"):
        pairwise_fscore(rng.standard_normal((3, 4, 3)), threshold=-1.0)


def test_pairwise_l1_uint8_and_float(rng):
    imgs = rng.integers(0, 256, (7, 9, 11, 3), dtype=np.uint8)
    got = pairwise_l1(imgs)
    want = np.abs(imgs[:, None].astype(np.float64) - imgs[None].astype(np.float64)).mean((2, 3, 4)) / 255
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert np.array_equal(got, got.T) and np.all(np.diag(got) == 0)
    as_float = pairwise_l1(imgs.astype(np.float32) / 255, imgs[:3].astype(np.float32) / 255)
    np.testing.assert_allclose(as_float, want[:, :3], rtol=1e-6)
    np.testing.assert_allclose(pairwise_l1(torch.from_numpy(imgs[:2]), imgs[2:]), want[:2, 2:], rtol=1e-12)


def test_pairwise_l1_errors(rng):
    imgs = rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"images_a: expected shape \(N, H, W, C\), found \(3, 8, 8\)"):
        pairwise_l1(imgs[..., 0])
    with pytest.raises(ValueError, match=r"expected the same \(H, W, C\), found \(8, 8, 3\) and \(8, 4, 3\)"):
        pairwise_l1(imgs, imgs[:, :, :4])
    with pytest.raises(ValueError, match="expected both uint8 or both float"):
        pairwise_l1(imgs, imgs.astype(np.float32))
    with pytest.raises(ValueError, match="expected uint8 or floating point pixels, found int64"):
        pairwise_l1(imgs.astype(np.int64))
    with pytest.raises(ValueError, match="expected finite pixel values"):
        pairwise_l1(np.full((2, 4, 4, 1), np.nan))
    with pytest.raises(ValueError, match="expected non-empty images"):
        pairwise_l1(np.zeros((0, 4, 4, 3), np.uint8))
