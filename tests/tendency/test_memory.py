"""Memory bounds with default settings (checks on), and the chunked steps behind them.

Peak memory is what tracemalloc traces while a call runs (numpy's allocations), added to the
input matrix the caller already holds, as a multiple of that matrix.
"""

import tracemalloc
import warnings

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import silhouette_samples as sk_silhouette_samples

from svrlens.tendency import AffinityPropagation, _checks, _similarity, silhouette_samples
from svrlens.tendency._checks import check_distances


def _blobs(n, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 20, (5, 2))
    points = centres[rng.integers(0, 5, n)] + rng.standard_normal((n, 2))
    return cdist(points, points)  # float64


def _total_over_matrix(call, matrix) -> float:
    tracemalloc.start()
    call()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (matrix.nbytes + peak) / matrix.nbytes


@pytest.fixture(scope="module")
def d2000():
    return _blobs(2000)


def test_silhouette_with_default_checks_stays_within_1_2_times_the_matrix(d2000):
    labels = np.random.default_rng(1).integers(0, 5, 2000)
    ratio = _total_over_matrix(lambda: silhouette_samples(d2000, labels), d2000)
    assert ratio <= 1.2, f"peak {ratio:.2f}x the matrix"
    assert _total_over_matrix(lambda: check_distances(d2000), d2000) <= 1.2


def test_affinity_propagation_with_defaults_stays_within_3_2_times_the_matrix(d2000):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ratio = _total_over_matrix(lambda: AffinityPropagation().fit(d2000), d2000)
    assert ratio <= 3.2, f"peak {ratio:.2f}x the matrix"


@pytest.fixture
def tiny_budget(monkeypatch):
    """A working memory of 64 bytes: every block is a few rows, so block edges are exercised."""
    monkeypatch.setattr(_checks, "WORKING_MEMORY", 64)


@pytest.mark.parametrize("as_tensor", [False, True])
def test_chunked_checks_find_defects_in_any_block(tiny_budget, as_tensor):
    d = _blobs(40)
    wrap = torch.from_numpy if as_tensor else (lambda a: a)
    assert check_distances(wrap(d)) is not None
    for edit, message in [
        (lambda m: m.__setitem__((37, 2), m[37, 2] + 1e-3), "expected a symmetric matrix"),
        (lambda m: m.__setitem__((39, 38), np.nan), "expected finite distances"),
        (lambda m: m.__setitem__((38, 1), -1.0), "expected non-negative distances, found minimum -1"),
        (lambda m: m.__setitem__((33, 33), 0.5), "expected a zero diagonal, found 1 non-zero entries"),
    ]:
        bad = d.copy()
        edit(bad)
        with pytest.raises(ValueError, match=message):
            check_distances(wrap(bad))
    unsigned = np.array([[0, 3], [2, 0]], np.uint8)  # a difference must not wrap around
    with pytest.raises(ValueError, match=r"up to 1"):
        check_distances(unsigned)


def _median_cases():
    d = _blobs(51, seed=4)
    yield d
    yield d.astype(np.float32)
    yield np.round(d)  # heavy ties
    yield np.zeros((6, 6))
    yield 1.0 - np.eye(7)
    yield (d > 10).astype(np.float64)  # two values only
    yield np.zeros((1, 1))


@pytest.mark.parametrize("case", range(7))
@pytest.mark.parametrize("budget", [None, 64])
def test_exact_median_equals_numpy_without_a_copy(monkeypatch, case, budget):
    if budget is not None:
        monkeypatch.setattr(_checks, "WORKING_MEMORY", budget)
    d = list(_median_cases())[case]
    want = float(np.median(np.asarray(d, np.float64)))
    assert _similarity._exact_median(d) == want
    assert _similarity._exact_median(torch.from_numpy(d)) == want


def test_median_estimate_above_4096_is_seeded(monkeypatch):
    monkeypatch.setattr(_similarity, "_EXACT_MEDIAN_MAX_N", 50)
    monkeypatch.setattr(_similarity, "_MEDIAN_SAMPLES", 20_000)
    d = _blobs(120)
    first = _similarity.median_similarity(d, np.random.default_rng(3))
    assert first == _similarity.median_similarity(d, np.random.default_rng(3))
    exact = -np.median(d)
    assert abs(first - exact) < 0.05 * abs(exact)  # 20,000 samples: within a few percent


def test_chunked_steps_equal_their_one_shot_forms(tiny_budget, rng):
    d = _blobs(60)
    d[7] = d[20]
    d[:, 7] = d[:, 20]
    d[7, 7] = d[7, 20] = d[20, 7] = 0.0  # samples 7 and 20 are duplicates
    representatives, group = _similarity.collapse_duplicates(d)
    assert group[7] == group[20] and len(representatives) == 59
    assert _similarity.collapse_duplicates(_blobs(60)) is None
    assert _similarity.off_diagonal_constant(2.5 * (1 - np.eye(5))) == 2.5
    assert _similarity.off_diagonal_constant(d) is None
    S = rng.standard_normal((60, 60)).astype(np.float32)
    members = np.sort(rng.choice(60, 23, replace=False))
    want = S[np.ix_(members, members)].sum(0, dtype=np.float64)
    assert np.array_equal(_similarity._column_sums(S, members), want)  # bitwise: same order of sums
    labels = rng.integers(0, 4, 60)
    got = silhouette_samples(d.astype(np.float32), labels)
    np.testing.assert_allclose(got, sk_silhouette_samples(d, labels, metric="precomputed"), atol=1e-5)


def test_similarities_do_not_depend_on_the_block_size(monkeypatch):
    d = _blobs(80)
    full = _similarity.similarities(d, "float32", "cpu", 5)
    monkeypatch.setattr(_checks, "WORKING_MEMORY", 64)
    blocked = _similarity.similarities(d, "float32", "cpu", 5)
    assert np.array_equal(full[0], blocked[0]) and full[1] == blocked[1]
    assert np.array_equal(full[2].normals, blocked[2].normals)
