"""The dispersion score: the optimal k-medoids inertia on small matrices (exhaustive float64
reference), the ``kmedoids`` package's FasterPAM on larger ones, known answers, errors and the CLI."""

import itertools
import json

import numpy as np
import pytest
import torch

from svrlens.tendency import DEFAULT_KS, KMedoids, _kmedoids, dispersion_score, dispersion_sweep
from tendency.test_tendency import run_cli  # tests/ is on sys.path (rootdir conftest)


def brute_force(d: np.ndarray, k: int) -> float:
    """The optimal inertia: every K-subset of the columns, in float64."""
    d = np.asarray(d, np.float64)
    return min(d[:, list(c)].min(1).sum() for c in itertools.combinations(range(d.shape[1]), k))


def euclidean(points: np.ndarray) -> np.ndarray:
    diff = points[:, None, :] - points[None, :, :]
    return np.sqrt((diff * diff).sum(-1))


def small_matrices(rng, count=60):
    """Distance matrices of 4–13 random points in 1–3 dimensions, a third with duplicated points."""
    for trial in range(count):
        points = rng.normal(size=(int(rng.integers(4, 12)), int(rng.integers(1, 4))))
        if trial % 3 == 0:
            points = np.concatenate([points, points[:2]])
        yield euclidean(points)


def test_equals_the_exhaustive_optimum_on_small_matrices(rng):
    for d in small_matrices(rng):
        for k in range(1, min(len(d), 5)):
            result = dispersion_score(d, k, n_bootstrap=10)
            assert result.score * len(d) == pytest.approx(brute_force(d, k), rel=1e-12, abs=1e-12)
            assert result.solver == "exact"
            # The medoids are what the score says they are.
            assert d[np.arange(len(d)), result.medoids[result.labels]].mean() == pytest.approx(result.score)


def test_fasterpam_never_beats_the_optimum_and_the_exact_solver_reaches_it(rng):
    for d in small_matrices(rng, count=30):
        for k in range(1, min(len(d), 4)):
            optimum = brute_force(d, k)
            assert KMedoids(k, method="exact").fit(d).inertia_ == pytest.approx(optimum, rel=1e-12, abs=1e-12)
            assert KMedoids(k, method="fasterpam").fit(d).inertia_ >= optimum - 1e-12


@pytest.mark.parametrize("n, dims", [(300, 2), (700, 5)])
@pytest.mark.parametrize("k", [2, 10, 50])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fasterpam_matches_the_kmedoids_package(rng, n, dims, k, dtype):
    """DS is the ``kmedoids`` package's FasterPAM loss / N from the seeded k-medoids++ start, on a
    float64 or a float32 matrix (read in place)."""
    import kmedoids

    centres = rng.normal(0, 4, (6, dims))
    d = euclidean(centres[rng.integers(0, 6, n)] + rng.normal(size=(n, dims))).astype(dtype)
    start = _kmedoids.kmedoids_plusplus(d, k, np.random.default_rng([0, 0]))
    reference = kmedoids.fasterpam(d, start.copy(), max_iter=100, random_state=None, n_cpu=1)
    ours = dispersion_score(d, k, solver="fasterpam", n_bootstrap=10)
    assert sorted(ours.medoids) == sorted(reference.medoids.tolist())
    assert ours.score * n == pytest.approx(float(reference.loss), rel=1e-5 if dtype == np.float32 else 1e-12)
    assert (ours.n_iter, ours.n_swaps) == (reference.n_iter, reference.n_swap)
    # A float64 brute-force check of the score: each sample's distance to its nearest medoid.
    assert ours.score == pytest.approx(np.asarray(d, np.float64)[:, ours.medoids].min(1).mean(), rel=1e-12)


def test_exact_is_never_worse_than_fasterpam_and_auto_picks_by_size(rng):
    d = euclidean(rng.normal(size=(150, 3)))
    exact = KMedoids(2, method="exact").fit(d)
    assert exact.inertia_ <= KMedoids(2, method="fasterpam", n_init=3).fit(d).inertia_ + 1e-12
    assert KMedoids(2).fit(d).method_ == "exact"  # C(150, 2)·150·2 reads: within the budget
    assert KMedoids(10).fit(d).method_ == "fasterpam"
    assert _kmedoids.exact_cost(368, 368, 2) <= _kmedoids.EXACT_BUDGET < _kmedoids.exact_cost(369, 369, 2)


def test_known_answers():
    x = np.array([0.0, 1.0, 2.0, 100.0, 101.0, 102.0])
    d = np.abs(x[:, None] - x[None])
    result = dispersion_score(d, 2)
    assert result.score == pytest.approx(4 / 6) and sorted(result.medoids) == [1, 4]
    assert result.labels.tolist() == [0, 0, 0, 1, 1, 1] or result.labels.tolist() == [1, 1, 1, 0, 0, 0]
    assert dispersion_score(d, 1).score == pytest.approx((2 + 1 + 0 + 98 + 99 + 100) / 6)
    assert dispersion_score(np.zeros((5, 5)), 2).score == 0.0  # copies: no dispersion
    # A continuum disperses more than two tight clusters of the same extent.
    line = np.linspace(0, 1, 40)
    ends = np.repeat([0.0, 1.0], 20)
    assert dispersion_score(np.abs(np.subtract.outer(ends, ends)), 2).score == 0.0
    # each half of the line around its median: mean |i − 9.5| over 20 points, spacing 1/39
    expected = np.abs(np.arange(20) - 9).mean() / 39
    assert dispersion_score(np.abs(np.subtract.outer(line, line)), 2).score == pytest.approx(expected)


def test_interval_seeds_sweep_and_json(rng):
    d = euclidean(rng.normal(size=(60, 2)))
    a, b = dispersion_score(d, 5, random_state=3), dispersion_score(d, 5, random_state=3)
    assert a.interval == b.interval and a.interval[0] <= a.score <= a.interval[1]
    sweep = dispersion_sweep(d, (2, 5, 59, 60, 80), n_bootstrap=20)
    assert [r.k for r in sweep] == [2, 5, 59]  # K < N only
    assert sweep[-1].score >= 0 and sweep[0].score > sweep[1].score > sweep[2].score
    json.dumps(sweep[0].to_dict())
    assert sweep[0].to_dict(labels=False)["labels"] is None
    assert DEFAULT_KS == (2, 5, 10, 20, 50)
    tensor = dispersion_score(torch.from_numpy(d), 5, random_state=3)
    assert tensor.score == a.score


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(k=0), "n_clusters: expected an integer 1 ≤ K < 4"),
        (dict(k=4), "n_clusters: expected an integer 1 ≤ K < 4"),
        (dict(k=2, n_init=0), "n_init: expected an integer ≥ 1"),
        (dict(k=2, solver="pam"), "method: expected one of"),
        (dict(k=2, confidence=1.5), "confidence and n_bootstrap"),
    ],
)
def test_errors(kwargs, message):
    d = np.abs(np.subtract.outer(np.arange(4.0), np.arange(4.0)))
    with pytest.raises(ValueError, match=message):
        dispersion_score(d, **kwargs)


def test_matrix_errors():
    with pytest.raises(ValueError, match="expected a zero diagonal"):
        dispersion_score(np.ones((3, 3)), 2)
    with pytest.raises(ValueError, match="expected a square"):
        dispersion_score(np.ones((3, 4)), 2)
    with pytest.raises(ValueError, match="non-empty"):
        dispersion_score(np.ones((0, 0)), 2)


def test_cli_dispersion_with_json(tmp_path, rng):
    points = np.concatenate([rng.normal(0, 0.1, (20, 2)), rng.normal(5, 0.1, (20, 2))])
    d = euclidean(points)
    np.save(tmp_path / "d.npy", d)
    result = run_cli(
        tmp_path / "d.npy", "--method", "dispersion", "--k", "2", "5", "--json", tmp_path / "o.json"
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads((tmp_path / "o.json").read_text())
    assert payload["score"] == pytest.approx(dispersion_score(d, 2).score) and payload["k"] == 2
    assert [entry["k"] for entry in payload["sweep"]] == [2, 5] and payload["method"] == "dispersion"
    assert "K=2" in result.stdout and "DS" in result.stdout
    for args, message in (
        (["--method", "dispersion", "--k", "40"], "svrlens: error: --k: expected 1 ≤ K < N = 40, found 40"),
        (["--k", "2"], "svrlens: error: --k: only with --method dispersion"),
        (["--method", "dispersion", "--labels", tmp_path / "d.npy"], "svrlens: error: --labels: not with"),
    ):
        bad = run_cli(tmp_path / "d.npy", *args)
        assert bad.returncode == 2 and bad.stderr.strip().startswith(message), bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1
