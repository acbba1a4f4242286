import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from scipy.spatial.distance import cdist
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_score as sk_silhouette_score

from svrlens.tendency import clustering_tendency

from .test_affinity import CENTRES


def _blobs(n, seed):
    points, truth = make_blobs(n, centers=CENTRES, cluster_std=0.8, random_state=seed)
    return cdist(points, points).astype(np.float32), truth


def test_stable_in_n_for_the_same_distribution():
    small, truth_small = _blobs(1000, 1)
    large, _ = _blobs(4000, 2)
    a, b = clustering_tendency(small), clustering_tendency(large)
    assert a.n_clusters == b.n_clusters == 5
    assert abs(a.score - b.score) < 0.05
    assert a.score == pytest.approx(
        sk_silhouette_score(small.astype(np.float64), truth_small, metric="precomputed"), abs=0.01
    )


def test_given_labels_are_used(rng):
    d, truth = _blobs(300, 0)
    result = clustering_tendency(d, truth)
    assert result.method == "labels" and result.preference is None and result.n_clusters == 5
    assert result.score == pytest.approx(
        sk_silhouette_score(d.astype(np.float64), truth, metric="precomputed"), abs=1e-6
    )
    low, high = result.interval
    assert low <= result.score <= high and high - low < 0.05


def test_clustered_beats_continuous(rng):
    clustered = np.repeat(np.linspace(0, 1, 5), 20) + rng.normal(0, 0.01, 100)
    continuous = rng.uniform(0, 1, 100)
    a = clustering_tendency(np.abs(clustered[:, None] - clustered[None]))
    b = clustering_tendency(np.abs(continuous[:, None] - continuous[None]))
    assert a.n_clusters == 5 and a.score > 0.9
    assert b.score < a.score - 0.2


def test_plain_ap_and_result_dict(rng):
    d, _ = _blobs(200, 0)
    result = clustering_tendency(d, method="ap", damping=0.75)
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["method"] == "ap" and payload["preference"] == pytest.approx(
        float(np.median(-d)), rel=1e-6
    )
    assert len(payload["labels"]) == 200 and payload["n_clusters"] == result.n_clusters
    adaptive = clustering_tendency(d).to_dict()
    assert {"preference", "n_clusters", "silhouette"} <= set(adaptive["scan"][0])


def test_seeded_bootstrap(rng):
    d, truth = _blobs(200, 0)
    assert (
        clustering_tendency(d, truth, random_state=3).interval
        == clustering_tendency(d, truth, random_state=3).interval
    )


def test_single_cluster_scores_zero():
    result = clustering_tendency(np.zeros((5, 5)))
    assert result.n_clusters in (1, 5) and result.score == 0.0


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"method": "kmeans"}, "method: expected one of"),
        ({"method": "labels"}, "method 'labels' needs labels"),
        ({"confidence": 1.5}, "confidence and n_bootstrap"),
    ],
)
def test_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        clustering_tendency(np.abs(np.subtract.outer(np.arange(4.0), np.arange(4.0))), **kwargs)


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "svrlens", "tendency", "--quiet", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_on_a_matrix_with_json(tmp_path, rng):
    t = np.repeat(np.linspace(0, 1, 5), 10) + rng.normal(0, 0.01, 50)
    np.save(tmp_path / "d.npy", np.abs(t[:, None] - t[None]))
    result = run_cli(tmp_path / "d.npy", "--json", tmp_path / "out" / "t.json")
    assert result.returncode == 0, result.stderr
    assert "K=5" in result.stdout and "tendency" in result.stdout
    payload = json.loads((tmp_path / "out" / "t.json").read_text())
    assert payload["n_clusters"] == 5 and payload["input_kind"] == "distance matrix"
    assert not list((tmp_path / "out").glob(".*tmp"))


def test_cli_with_labels_clouds_and_images(tmp_path, rng):
    clouds = rng.standard_normal((12, 40, 3)).astype(np.float32)
    clouds[6:] += 5
    np.save(tmp_path / "clouds.npy", clouds)
    np.save(tmp_path / "labels.npy", np.repeat([0, 1], 6))
    result = run_cli(tmp_path / "clouds.npy", "--labels", tmp_path / "labels.npy")
    assert result.returncode == 0, result.stderr
    assert "12 point clouds (Chamfer)" in result.stdout and "method       labels" in result.stdout
    folder = tmp_path / "pngs"
    folder.mkdir()
    for k in range(6):
        Image.fromarray(np.full((8, 8, 3), 40 * (k // 3), np.uint8)).save(folder / f"{k}.png")
    result = run_cli(folder)
    assert result.returncode == 0, result.stderr
    assert "6 images" in result.stdout and "K=2" in result.stdout
    clouds_dir = tmp_path / "clouds"
    clouds_dir.mkdir()
    for k in range(6):
        np.save(clouds_dir / f"{k}.npy", clouds[k * 2])
    assert run_cli(clouds_dir).returncode == 0


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda p: np.save(p, np.zeros((3, 4))), "expected a square distance matrix, clouds"),
        (lambda p: np.save(p, np.triu(np.ones((3, 3)), 1)), "expected a symmetric matrix"),
        (lambda p: np.save(p, -(1 - np.eye(3))), "expected non-negative distances"),
        (lambda p: np.save(p, np.where(np.eye(3) > 0, 0, np.nan)), "expected finite distances"),
        (lambda p: np.save(p, np.ones((3, 3))), "expected a zero diagonal"),
        (lambda p: p.write_bytes(b"not numpy"), "not a .npy file"),
        (lambda p: np.save(p, np.array([{"x": 1}], dtype=object), allow_pickle=True), "holds Python objects"),
        (lambda p: None, "no such file"),
    ],
)
def test_cli_bad_input(tmp_path, make, message):
    path = tmp_path / "bad.npy"
    make(path)
    result = run_cli(path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"svrlens: error: {path}: ") and message in lines[0], (
        result.stderr
    )


def test_cli_bad_labels_and_folders(tmp_path):
    np.save(tmp_path / "d.npy", 1 - np.eye(4))
    np.save(tmp_path / "l.npy", np.zeros(3, np.int64))
    result = run_cli(tmp_path / "d.npy", "--labels", tmp_path / "l.npy")
    assert result.returncode == 2 and "labels: expected shape (4,), found (3,)" in result.stderr
    (tmp_path / "empty").mkdir()
    result = run_cli(tmp_path / "empty")
    assert result.returncode == 2 and "found neither" in result.stderr
    ragged = tmp_path / "ragged"
    ragged.mkdir()
    np.save(ragged / "a.npy", np.zeros((5, 3)))
    np.save(ragged / "b.npy", np.zeros((6, 3)))
    result = run_cli(ragged)
    assert (
        result.returncode == 2
        and "b.npy: ragged clouds: expected 5 points like a.npy, found 6" in result.stderr
    )


def test_repr_is_one_short_line():
    d, _ = _blobs(300, 1)
    result = clustering_tendency(d)
    text = repr(result)
    assert "\n" not in text and len(text) < 160, text  # not the labels, not the preference scan
    assert f"score={result.score:.4f}" in text and f"n_clusters={result.n_clusters}" in text
    assert "n_samples=300" in text
