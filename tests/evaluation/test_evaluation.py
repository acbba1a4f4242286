import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from svrlens.data import SynthConfig, load_dataset, subsample, synthesize, write_family
from svrlens.errors import InputError
from svrlens.evaluation import (
    EvaluationConfig,
    clustering,
    compare_scores,
    diagnose,
    load_predictions,
    oracle_nn,
    per_sample_metrics,
    retrieval,
)
from svrlens.geometry import fscore
from tests.geometry.reference import chamfer


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    path = tmp_path_factory.mktemp("eval") / "base"
    synthesize(
        SynthConfig(n_shapes=1000, image_size=32, n_points=256, dense_points=1024, seed=2),
        path,
        progress=False,
    )
    return load_dataset(path)


def test_oracle_nn_is_the_brute_force_argmin(rng):
    train = rng.standard_normal((12, 20, 3)).astype(np.float32)
    test = rng.standard_normal((5, 20, 3)).astype(np.float32)
    index, distance = oracle_nn(test, train)
    reference = np.array([[chamfer(t, s) for s in train] for t in test])
    np.testing.assert_array_equal(index, reference.argmin(1))
    np.testing.assert_allclose(distance, reference.min(1), rtol=1e-5)


def test_retrieval_and_clustering_baselines(rng):
    centres = np.array([[0, 0, 0], [6, 0, 0], [0, 6, 0]], np.float32)
    labels = np.repeat(np.arange(3), 8)
    train_points = (centres[labels][:, None, :] + rng.normal(0, 0.3, (24, 16, 3))).astype(np.float32)
    train_images = np.zeros((24, 4, 4, 3), np.uint8)
    train_images[:, 0, 0, 0] = labels * 100 + np.arange(24) % 8  # images reveal the group
    test_images = train_images[[0, 9, 17]].copy()
    np.testing.assert_array_equal(retrieval(test_images, train_images), [0, 9, 17])
    result = clustering(test_images, train_images, train_points)
    assert result["n_clusters"] == 3
    assert set(result["index"].tolist()) <= set(result["medoids"].tolist())  # predicts medoids only
    np.testing.assert_array_equal(labels[result["index"]], [0, 1, 2])  # the right group's medoid


def test_relative_thresholds_follow_the_bounding_box(rng):
    gt = rng.uniform(-1, 1, (4, 50, 3)).astype(np.float32)
    pred = gt + rng.normal(0, 0.02, gt.shape).astype(np.float32)
    metrics = per_sample_metrics(pred, gt, thresholds=[0.01, 0.05], relative=True)
    side = np.ptp(gt.astype(np.float64), axis=1).max(1)
    for i in range(4):
        want = fscore(
            torch.from_numpy(pred[i : i + 1]),
            torch.from_numpy(gt[i : i + 1]),
            [0.01 * side[i], 0.05 * side[i]],
        )
        np.testing.assert_allclose(metrics["fscore"][i], want.fscore[0].numpy(), atol=1e-12)
        assert metrics["chamfer"][i] == pytest.approx(chamfer(pred[i], gt[i]), rel=1e-5)
    assert metrics["conventions"]["threshold_meaning"] == "fraction of each ground truth's bounding-box side"


def test_compare_scores_on_known_distributions(rng):
    a = rng.normal(0.5, 0.1, 2000)
    same = compare_scores(a, a)
    assert same["mean_difference"] == 0 and same["wilcoxon_pvalue"] == 1.0
    assert same["difference_interval"] == [0.0, 0.0] and same["ratio"] == 1.0
    shifted = compare_scores(a + 0.05 + rng.normal(0, 0.01, 2000), a)
    low, high = shifted["difference_interval"]
    assert low < 0.05 < high and low > 0.04 and shifted["wilcoxon_pvalue"] < 1e-6
    assert shifted["relative_difference"] == pytest.approx(0.1, abs=0.01)
    low, high = shifted["ratio_interval"]
    assert low < shifted["ratio"] < high and low > 1.08
    with pytest.raises(ValueError, match="expected two non-empty 1-D arrays"):
        compare_scores(a, a[:5])


def test_ratio_intervals_never_imply_less_than_minus_100_percent(rng):
    """A bootstrapped difference divided by a fixed mean once gave −100 % [−159.7 %, −51.1 %]; the
    interval of the ratio of positive means cannot go below 0 (−100 %)."""
    baseline = rng.exponential(0.02, 200)
    model = rng.exponential(0.0005, 200)  # far better than the baseline, heavy-tailed
    result = compare_scores(model, baseline)
    assert result["relative_interval"][0] >= -1.0 and result["ratio_interval"][0] >= 0.0
    # The paired bootstrap of the ratio equals scipy's on the same resamples.
    from scipy import stats

    reference = stats.bootstrap(
        (model, baseline),
        lambda a, b, axis=-1: a.mean(axis) / b.mean(axis),
        paired=True,
        vectorized=True,
        n_resamples=2000,
        method="percentile",
        rng=np.random.default_rng([0, 31]),
    ).confidence_interval
    assert result["ratio_interval"] == pytest.approx([reference.low, reference.high])


def _parts(arrays, splits):
    from svrlens.data import Dataset

    data = Dataset(
        arrays["images"],
        arrays["points"],
        arrays["morph"],
        arrays["labels"],
        splits,
        {},
        None,
        arrays["dense"],
    )
    return data.subset("train"), data.subset("test")


def test_verdict_recognition_on_memorised_predictions(base):
    """Set 1.2.7 (Case 1); predictions are copies of the two training end shapes."""
    arrays, splits, _ = subsample(base, "1.2", 7)
    train, test = _parts(arrays, splits)
    nearer_end = (np.asarray(test.morph)[:, 1] >= 0.5).astype(int)
    predictions = np.asarray(train.points)[np.where(nearer_end == 1, 10, 0)]
    result = diagnose(train, test, predictions, config=EvaluationConfig(n_bootstrap=200, null_references=5))
    assert result["case"] == 1 and result["verdict"] == "recognition"
    assert result["statistic"]["value"] == pytest.approx(0.0, abs=1e-9)
    # Memorisation is 1 for a training shape and 0 for a truth's own shape; a copy stands for the
    # test truth it lands on (the one nearest its training shape), so it reads nearer 1 than 0.
    assert result["output_tendency"]["score"] > 0.99 and result["memorisation"]["median"] > 0.5
    assert result["model"]["excess"] == pytest.approx(result["oracle_nn"]["excess"], rel=0.05)
    # The copying test sees copies: every prediction lands on the truths nearest the training shapes.
    copying = result["copying"]
    assert copying["statistic"] < -3 and copying["p_value"] < 1e-3 and copying["global"]["z_u"] < -3
    # Two copies gather on two shapes: DS of the predictions at K = 2 is 0 (wherever it is defined).
    ratio = result["dispersion"]["ratio"][0]
    assert ratio["k"] == 2 and (ratio["value"] == 0.0 or not ratio["defined"])
    assert result["dispersion"]["predictions"]["sweep"][0]["score"] == 0.0
    json.dumps(result)


def test_verdict_reconstruction_on_perfect_predictions(base):
    """Set 1.1.1 (five tight clusters); the predictions are the truths' own training clouds, which
    score exactly the sampling floor against the dense truths (excess 0)."""
    arrays, splits, _ = subsample(base, "1.1", 1)
    train, test = _parts(arrays, splits)
    result = diagnose(
        train, test, np.asarray(test.points), config=EvaluationConfig(n_bootstrap=200, null_references=5)
    )
    assert result["verdict"] == "reconstruction" and result["statistic"]["interval"][0] > 0.5
    assert result["case"] == 3
    # Truths within the excess noise of a training shape leave memorisation undefined, never a
    # ratio of noise (at 256 points nearly every truth of 1.1.1 is that close).
    assert result["memorisation"]["undefined"] > 0
    assert result["model"]["excess"] == pytest.approx(0.0, abs=1e-9)
    assert result["model"]["chamfer"] == pytest.approx(result["sampling_floor"], rel=0.1)
    # The truths' own clouds score exactly as the truths (unlanded Z_U = 0); landed, a truth within the
    # noise of another may stand for it, so Z_U is 0 within its null spread. C_T is defined only in
    # clusters whose truths are beyond the noise. They land on their own truths: the dispersion
    # ratio is 1 at every K where it is defined.
    copying = result["copying"]
    assert abs(copying["global"]["z_u"]) < 3 and copying["unlanded"]["z_u"] == 0.0
    assert copying["statistic"] == 0.0 or (copying["statistic"] is None and "noise" in copying["undefined"])
    for ratio in result["dispersion"]["ratio"]:
        assert ratio["value"] == 1.0 if ratio["defined"] else ratio["value"] is None
    assert "dispersion score" in " ".join(result["evidence"]) and "copying test" in " ".join(
        result["evidence"]
    )


def test_load_predictions_errors(tmp_path):
    def save(name, **arrays):
        np.savez(tmp_path / name, **arrays)
        return tmp_path / name

    test_index = np.array([3, 5, 7])
    good = np.zeros((3, 8, 3), np.float32)
    np.testing.assert_array_equal(load_predictions(save("ok.npz", points=good), 3, test_index), good)
    reordered = load_predictions(
        save(
            "idx.npz",
            points=np.arange(3, dtype=np.float32)[:, None, None] * np.ones((3, 8, 3), np.float32),
            indices=np.array([7, 3, 5]),
        ),
        3,
        test_index,
    )
    assert reordered[:, 0, 0].tolist() == [1.0, 2.0, 0.0]
    (tmp_path / "junk.npz").write_bytes(b"junk")
    cases = [
        (tmp_path / "missing.npz", "no such predictions file"),
        (tmp_path / "junk.npz", "not a readable .npz"),
        (save("nopoints.npz", x=good), "expected an array 'points'"),
        (save("nan.npz", points=np.full((3, 8, 3), np.nan, np.float32)), "points contain NaN or inf"),
        (save("count.npz", points=good[:2]), r"expected 3 predictions \(one per test sample\), found 2"),
        (save("flat.npz", points=good[:, :, :2]), r"points: expected shape \(N, P, 3\)"),
        (save("gaps.npz", points=good, indices=np.array([3, 5, 9])), "no prediction for 1 test samples"),
    ]
    for path, message in cases:
        with pytest.raises(InputError, match=message):
            load_predictions(path, 3, test_index)


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "svrlens", *map(str, args)], capture_output=True, text=True, timeout=600
    )


def test_diagnose_and_evaluate_cli(base, tmp_path):
    sets = write_family(base, "1.2", tmp_path / "sets", figure=False)
    dataset = load_dataset(sets[6])
    test = dataset.splits["test"]
    codewords = (
        np.random.default_rng(0).normal(size=(len(test), 16)) + 5 * np.asarray(dataset.labels)[test][:, None]
    )
    np.savez(
        tmp_path / "pred.npz", points=np.asarray(dataset.points)[test], indices=test, codewords=codewords
    )
    result = _cli(
        "diagnose",
        "--train",
        sets[6],
        "--predictions",
        tmp_path / "pred.npz",
        "--out",
        tmp_path / "diag",
        "--quiet",
        "--cache",
        tmp_path / "blocks",
        "--thresholds",
        "0.05",
        "0.1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("verdict: ")
    diagnosis = json.loads((tmp_path / "diag" / "diagnosis.json").read_text())
    assert {"case", "verdict", "image_tendency", "shape_tendency", "output_tendency"} <= set(diagnosis)
    assert {"chamfer", "fscore"} <= set(diagnosis["model"]) and {"chamfer", "fscore"} <= set(
        diagnosis["oracle_nn"]
    )
    assert (
        len(diagnosis["codewords"]["tsne"]) == len(test)
        and diagnosis["codewords"]["silhouette_by_label"] > 0.5
    )  # labelled groups
    assert diagnosis["figures"] == [
        "fig4-tendencies.png",
        "fig5-matrices.png",
        "fig6-scores.png",
        "fig7-tsne.png",
        "fig8-qualitative.png",
        "verdict.png",
    ]
    assert diagnosis["verdict"] == "reconstruction" and {"name", "value", "interval"} <= set(
        diagnosis["statistic"]
    )
    # Every Chamfer matrix of the diagnosis went through the resumable block cache.
    assert len(list((tmp_path / "blocks").glob("*/block_*.npy"))) >= 7
    assert diagnosis["conventions"]["thresholds"] == [0.05, 0.1] and len(diagnosis["model"]["fscore"]) == 2
    assert all((tmp_path / "diag" / "figures" / name).stat().st_size > 5000 for name in diagnosis["figures"])
    # The same report layout as `svrlens reproduce`, for the user's data set.
    report = (tmp_path / "diag" / "report.html").read_text()
    assert (
        "your data" in report
        and report.count("data:image/png;base64,") >= 4
        and "within-cluster gain" in report
        and "fig. 5" in report
        and "fig. 8" in report
    )
    assert (
        json.loads((tmp_path / "diag" / "results.json").read_text())["datasets"]["your data"]["verdict"]
        == diagnosis["verdict"]
    )
    run = tmp_path / "run"
    assert (
        _cli("train", sets[6], "--out", run, "--epochs", "1", "--image-size", "32", "--quiet").returncode == 0
    )
    result = _cli("evaluate", run, "--quiet")
    assert result.returncode == 0, result.stderr
    for name in ("diagnosis.json", "summary.txt", "report.html", "results.json"):
        assert (run / "diagnosis" / name).exists()
    bad = _cli(
        "diagnose", "--train", sets[6], "--predictions", tmp_path / "nothing.npz", "--out", tmp_path / "d2"
    )
    assert bad.returncode == 2 and bad.stderr.strip().endswith("nothing.npz: no such predictions file")
    assert not (tmp_path / "d2").exists()
    bad = _cli("evaluate", tmp_path)
    assert bad.returncode == 2 and "not a svrlens run directory" in bad.stderr
