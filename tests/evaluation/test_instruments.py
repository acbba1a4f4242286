"""The instruments beside the verdict, on matrices whose answer is known: the dispersion ratio of
reconstructors, recognisers and collapse; the noise rule; and pluggable image features (plumbing:
no pretrained weights exist here, so nothing perceptual is claimed)."""

import numpy as np
import pytest
import torch

from svrlens.evaluation import EvaluationConfig
from svrlens.evaluation.images import PIXEL_L1, extract_features, image_distances
from svrlens.evaluation.instruments import dispersion, ratio_interval
from svrlens.geometry import pairwise_l1

CONFIG = EvaluationConfig(n_bootstrap=200, dispersion_ks=(2, 5, 30))


def _matrices(landed: np.ndarray, truth_positions: np.ndarray, train: int = 12) -> dict:
    """Test truths on a line; each prediction lands exactly on truth ``landed[i]``."""
    test_shapes = np.abs(truth_positions[:, None] - truth_positions[None])
    pred_to_test = test_shapes[landed] + 0.5  # an offset (output noise) that does not change where it lands
    train_positions = np.linspace(0, 1, train)
    return {
        "train_shapes": np.abs(train_positions[:, None] - train_positions[None]),
        "test_shapes": test_shapes,
        "pred_to_test": pred_to_test,
    }


def test_dispersion_ratio_known_answers(rng):
    y = np.sort(rng.random(60))
    images = np.abs(y[:, None] - y[None])[:12, :12]
    ds = lambda landed, noise=None: dispersion(images, "test", _matrices(landed, y), CONFIG, noise)  # noqa: E731
    reconstructor = ds(np.arange(60))
    assert [r["value"] for r in reconstructor["ratio"]] == [1.0, 1.0, 1.0]  # lands on its own truths
    assert all(r["interval"][0] <= 1.0 <= r["interval"][1] for r in reconstructor["ratio"])
    # A recogniser that emits two shapes lands on two truths: no dispersion left at K ≥ 2.
    two = np.where(y < 0.5, np.argmin(np.abs(y - 0.25)), np.argmin(np.abs(y - 0.75)))
    recogniser = ds(two)
    assert [r["value"] for r in recogniser["ratio"]] == [0.0, 0.0, 0.0]
    # Five recognised shapes: at K = 2 as spread as the truths (the ratio cannot see them), 0 at K ≥ 5.
    five = np.array([np.argmin(np.abs(y - c)) for c in (0.1, 0.3, 0.5, 0.7, 0.9)])[
        np.minimum(y * 5, 4).astype(int)
    ]
    ratios = [r["value"] for r in ds(five)["ratio"]]
    assert ratios[0] > 0.5 and ratios[1] == 0.0 and ratios[2] == 0.0
    # Undefined where the truths' own DS is within twice the excess noise.
    noisy = ds(np.arange(60), noise=ds(np.arange(60))["test_truths"]["sweep"][1]["score"])
    assert [r["defined"] for r in noisy["ratio"]] == [True, False, False]
    assert noisy["ratio"][1]["value"] is None and noisy["ratio"][1]["interval"] is None
    assert reconstructor["shapes"]["sweep"][0]["k"] == 2 and reconstructor["images"]["distance"] == "test"
    assert [e["k"] for e in reconstructor["images"]["sweep"]] == [2, 5]  # K = 30 ≥ 12 images: left out


def test_ratio_interval_is_seeded_and_paired(rng):
    a = rng.random(50)
    assert ratio_interval(a, a, n_bootstrap=100, confidence=0.95, seed=1) == [1.0, 1.0]  # paired
    b = a * 2
    assert ratio_interval(b, a, n_bootstrap=100, confidence=0.95, seed=1) == pytest.approx([2.0, 2.0])
    assert ratio_interval(a, np.zeros(50), n_bootstrap=10, confidence=0.95, seed=1) is None


class _MeanColour(torch.nn.Module):
    """uint8 (B, H, W, 3) → (B, 6): mean and a fixed random projection of the colours."""

    def __init__(self):
        super().__init__()
        self.projection = torch.nn.Linear(3, 3)
        torch.nn.init.normal_(self.projection.weight, generator=torch.Generator().manual_seed(0))

    def forward(self, images):
        assert images.dtype == torch.uint8 and images.shape[-1] == 3  # the documented input
        colours = images.float().mean((1, 2)) / 255.0
        return torch.cat([colours, self.projection(colours)], 1)


def test_image_features_plumbing(rng):
    images = rng.integers(0, 256, (9, 8, 8, 3), dtype=np.uint8)
    d, kind = image_distances(images)
    assert kind == PIXEL_L1 and np.array_equal(d, pairwise_l1(images))
    module = _MeanColour()
    features = extract_features(images, module, batch_size=4)
    with torch.no_grad():
        expected = module(torch.from_numpy(images)).double().numpy()
    np.testing.assert_allclose(features, expected, rtol=1e-6)
    d, kind = image_distances(images, module, batch_size=2)
    brute = np.abs(features[:, None, :] - features[None, :, :]).mean(-1)
    np.testing.assert_allclose(d, brute, rtol=1e-12, atol=1e-15)
    assert np.array_equal(d, d.T) and np.all(np.diag(d) == 0) and "6 features of _MeanColour" in kind
    # A plain callable on numpy batches works the same way.
    d2, kind2 = image_distances(images, lambda batch: batch.reshape(len(batch), -1)[:, :5], batch_size=4)
    flat = images.reshape(9, -1)[:, :5].astype(np.float64)
    np.testing.assert_allclose(d2, np.abs(flat[:, None] - flat[None]).mean(-1))
    assert "5 features of <lambda>" in kind2


@pytest.mark.parametrize(
    "features, message",
    [
        (lambda b: np.zeros((len(b) + 1, 3)), r"image_features: expected features of shape \(4, F\)"),
        (lambda b: np.zeros(len(b)), r"image_features: expected features of shape"),
        (lambda b: np.full((len(b), 2), np.nan), "image_features: expected finite features"),
        (
            lambda b: np.zeros((len(b), 1 + (b[0, 0, 0, 0] == 0))),
            "expected 1 features per image in every batch",
        ),
        ("not callable", "image_features: expected a torch module or a callable"),
    ],
)
def test_image_features_errors(features, message):
    images = np.ones((6, 4, 4, 3), np.uint8)
    images[4:] = 0
    with pytest.raises(ValueError, match=message):
        extract_features(images, features, batch_size=4)


def test_images_must_be_uint8():
    with pytest.raises(ValueError, match=r"images: expected uint8 \(N, H, W, 3\)"):
        extract_features(np.zeros((2, 4, 4, 3)), lambda b: np.zeros((len(b), 2)))
