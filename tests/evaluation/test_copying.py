"""The copying test (Meehan et al. 2020): Z_U equals the value SciPy's Mann–Whitney U gives, the
cells combine as defined, and the readings are right where the answer is known."""

import json

import numpy as np
import pytest
from scipy import stats

from svrlens.evaluation.copying import copying_test, z_u


def _scipy_z(x, y) -> float:
    u = stats.mannwhitneyu(x, y).statistic
    n, m = len(x), len(y)
    return (u - n * m / 2) / np.sqrt(n * m * (n + m + 1) / 12)


@pytest.mark.parametrize("n, m", [(3, 4), (30, 40), (200, 150)])
@pytest.mark.parametrize("ties", [False, True])
def test_z_u_equals_scipys_mann_whitney_value(rng, n, m, ties):
    x, y = rng.normal(0, 1, n), rng.normal(0.3, 1, m)
    if ties:  # exact copies: many zeros on both sides
        x, y = np.round(x, 1) * (rng.random(n) > 0.3), np.round(y, 1)
    result = z_u(x, y)
    assert result["u"] == stats.mannwhitneyu(x, y).statistic
    assert result["z_u"] == pytest.approx(_scipy_z(x, y), rel=1e-12, abs=1e-12)
    assert result["p_value"] == stats.mannwhitneyu(x, y, alternative="less").pvalue
    assert (result["n"], result["m"]) == (n, m)


def test_known_values():
    same = np.arange(10.0)
    assert z_u(same, same)["z_u"] == 0.0  # one sample against itself: U = nm/2
    below = z_u(np.zeros(5), np.ones(8))  # every prediction closer: U = 0
    assert below["u"] == 0 and below["z_u"] == pytest.approx(-(5 * 8 / 2) / np.sqrt(5 * 8 * 14 / 12))
    assert z_u(np.ones(5), np.zeros(8))["z_u"] == pytest.approx(-below["z_u"])
    with pytest.raises(ValueError, match="two non-empty finite samples"):
        z_u([], [1.0])
    with pytest.raises(ValueError, match="two non-empty finite samples"):
        z_u([np.nan], [1.0])


def test_cells_combine_as_defined(rng):
    labels = np.array([0, 0, 1, 1, 2])  # three training clusters; cluster 2 gets no prediction
    pred = rng.random((40, 5)) + np.array([0, 0, 0, 0, 5.0])  # training shape 4 never the nearest
    truth = rng.random((60, 5))
    out = copying_test(pred, truth, labels)
    cell_pred, cell_truth = labels[pred.argmin(1)], labels[truth.argmin(1)]
    weights, scores = [], []
    for cell in out["cells"]:
        c = cell["cell"]
        assert cell["n_predictions"] == int((cell_pred == c).sum())
        assert cell["n_truths"] == int((cell_truth == c).sum())
        assert cell["weight"] == pytest.approx((cell_truth == c).mean())
        if cell["n_predictions"] and cell["n_truths"]:
            expected = z_u(pred.min(1)[cell_pred == c], truth.min(1)[cell_truth == c])["z_u"]
            assert cell["z_u"] == pytest.approx(expected)
            weights.append(cell["weight"])
            scores.append(cell["z_u"])
        else:
            assert cell["z_u"] is None
    weights, scores = np.array(weights), np.array(scores)
    assert out["n_cells_used"] == len(scores)
    assert out["statistic"] == pytest.approx((weights * scores).sum() / weights.sum())
    assert out["combined_z"] == pytest.approx((weights * scores).sum() / np.sqrt((weights**2).sum()))
    assert out["p_value"] == pytest.approx(stats.norm.cdf(out["combined_z"]))
    assert {k: v for k, v in out["global"].items() if k != "decidable"} == z_u(pred.min(1), truth.min(1))
    assert out["global"]["decidable"] and out["threshold"] is None and out["undefined"] is None
    json.dumps(out)


def test_cells_whose_truths_are_within_the_noise_are_not_used(rng):
    """A cell whose truths sit within twice the excess noise of the training shapes cannot tell a
    copy from a reconstruction: it is left out, and with no other cell C_T is undefined."""
    labels = np.array([0, 0, 1, 1])
    truth = np.full((40, 4), 9.0)
    truth[:20, 0] = rng.uniform(0.0, 0.01, 20)  # cell 0: truths as near as the noise
    truth[20:, 2] = rng.uniform(0.2, 0.4, 20)  # cell 1: truths well away from the training shapes
    pred = truth.copy()
    pred[:, [0, 2]] *= 0.5  # predictions nearer the training shapes in both cells
    out = copying_test(pred, truth, labels, noise=0.02)
    assert out["threshold"] == 0.04 and [c["decidable"] for c in out["cells"]] == [False, True]
    assert out["cells"][0]["z_u"] is None and out["n_cells_used"] == 1
    assert out["statistic"] == pytest.approx(z_u(pred[20:, 2], truth[20:, 2])["z_u"])
    assert out["statistic"] < -3
    within = copying_test(pred[:20], truth[:20], labels, noise=0.02)
    assert within["statistic"] is None and within["p_value"] is None and within["n_cells_used"] == 0
    assert "within the noise" in within["undefined"] and not within["global"]["decidable"]
    json.dumps(within)
    # Predictions only in the undecidable cluster, the decidable one holding truths alone.
    only_near = copying_test(pred[:20], truth, labels, noise=0.02)
    assert only_near["statistic"] is None and "holds predictions" in only_near["undefined"]
    for bad in (np.nan, np.inf, -0.1, True, "0.1", np.array([0.1, 0.2])):
        with pytest.raises(ValueError, match="noise must be a finite number"):
            copying_test(pred, truth, labels, noise=bad)


def test_known_answers_copies_and_reconstructions(rng):
    """Training shapes on a line with two clusters; truths drawn around them. A copier emits
    training shapes (distance 0), a reconstructor the truths themselves (identical distances)."""
    train = np.concatenate([rng.normal(0, 0.2, 30), rng.normal(5, 0.2, 30)])
    labels = (train > 2.5).astype(int)
    truths = np.concatenate([rng.normal(0, 0.3, 50), rng.normal(5, 0.3, 50)])
    to_train = np.abs(truths[:, None] - train[None])
    copies = np.abs(train[rng.integers(0, 60, 100)][:, None] - train[None])
    copier = copying_test(copies, to_train, labels)
    assert copier["statistic"] < -5 and copier["p_value"] < 1e-6 and copier["n_cells_used"] == 2
    same = copying_test(to_train, to_train, labels)
    assert same["statistic"] == 0.0 and same["p_value"] == 0.5
    far = copying_test(to_train + 1.0, to_train, labels)  # underfitting: farther than the truths
    assert far["statistic"] > 5


def test_shape_errors():
    with pytest.raises(ValueError, match="expected non-empty"):
        copying_test(np.ones((3, 4)), np.ones((3, 5)), np.zeros(4))
    with pytest.raises(ValueError, match="expected non-empty"):
        copying_test(np.ones((3, 4)), np.ones((3, 4)), np.zeros(3))
    with pytest.raises(ValueError, match="expected non-empty"):
        copying_test(np.ones((0, 4)), np.ones((3, 4)), np.zeros(4))
