import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist
from sklearn.metrics import silhouette_samples as sk_silhouette_samples

from svrlens.tendency import silhouette_samples, silhouette_score


def _line_distances(x):
    x = np.asarray(x, float)
    return np.abs(x[:, None] - x[None, :])


def test_hand_computed_six_points():
    # Points on a line: A = {0, 1, 3}, B = {10, 11}, C = {20} (a singleton).
    #   x=0 : a = (1+3)/2 = 2,   b = min(mean(10, 11), 20)   = 10.5 -> s = 8.5/10.5 = 17/21
    #   x=1 : a = (1+2)/2 = 1.5, b = min(mean(9, 10), 19)    = 9.5  -> s = 8/9.5    = 16/19
    #   x=3 : a = (3+2)/2 = 2.5, b = min(mean(7, 8), 17)     = 7.5  -> s = 5/7.5    = 2/3
    #   x=10: a = 1, b = min(mean(10, 9, 7), 10) = 26/3             -> s = (23/3)/(26/3) = 23/26
    #   x=11: a = 1, b = min(mean(11, 10, 8), 9) = 9                -> s = 8/9
    #   x=20: singleton cluster                                     -> s = 0
    d = _line_distances([0, 1, 3, 10, 11, 20])
    want = [17 / 21, 16 / 19, 2 / 3, 23 / 26, 8 / 9, 0.0]
    np.testing.assert_allclose(silhouette_samples(d, [0, 0, 0, 1, 1, 2]), want, rtol=1e-15)
    assert silhouette_score(d, [0, 0, 0, 1, 1, 2]) == pytest.approx(np.mean(want), rel=1e-15)


@pytest.mark.parametrize("n,k", [(50, 2), (300, 7), (1000, 25)])
def test_matches_scikit_learn(rng, n, k):
    points = rng.standard_normal((n, 3))
    points[: n // 3] += 4
    d = cdist(points, points)
    labels = rng.integers(0, k, n)
    labels[0] = k + 3  # a singleton with a non-contiguous label
    got = silhouette_samples(d, labels)
    np.testing.assert_allclose(got, sk_silhouette_samples(d, labels, metric="precomputed"), atol=1e-9, rtol=0)
    np.testing.assert_allclose(silhouette_samples(torch.from_numpy(d), labels), got, atol=1e-12)


def test_float32_input_accumulates_in_float64(rng):
    points = rng.standard_normal((400, 2))
    d64 = cdist(points, points)
    labels = rng.integers(0, 4, 400)
    got = silhouette_samples(d64.astype(np.float32), labels)
    np.testing.assert_allclose(got, sk_silhouette_samples(d64, labels, metric="precomputed"), atol=1e-5)


@pytest.mark.parametrize(
    "matrix,labels,message",
    [
        (np.zeros((3, 4)), [0, 1, 1], r"expected a square \(N, N\) matrix, found shape \(3, 4\)"),
        (
            _line_distances([0, 1, 2]),
            [0, 0, 0],
            "expected 2 ≤ number of clusters ≤ n_samples − 1 = 2, found 1",
        ),
        (_line_distances([0, 1, 2]), [0, 1, 2], "found 3"),
        (_line_distances([0, 1, 2]), [0, 1], r"labels: expected shape \(3,\), found \(2,\)"),
        (_line_distances([0, 1, 2]), ["a", "b", "b"], "labels: expected integer cluster labels"),
        (
            _line_distances([0, 1, 2]) + np.eye(3),
            [0, 1, 1],
            "expected a zero diagonal, found 3 non-zero entries",
        ),
        (_line_distances([0, 1, 2]) - 5 * (1 - np.eye(3)), [0, 1, 1], "expected non-negative distances"),
        (np.where(np.eye(3) > 0, 0, np.nan), [0, 1, 1], "expected finite distances, found NaN or inf"),
        (
            np.triu(_line_distances([0, 1, 2])),
            [0, 1, 1],
            r"expected a symmetric matrix, found \|D - D.T\| up to 2",
        ),
    ],
)
def test_errors(matrix, labels, message):
    with pytest.raises(ValueError, match=message):
        silhouette_samples(matrix, labels)
