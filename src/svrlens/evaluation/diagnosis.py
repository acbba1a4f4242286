"""Recognition or reconstruction? The diagnosis of a model's test predictions (paper secs. 2–4).

The verdict comes from one statistic whose value is known under each definition whatever the
quality or sampling of the outputs — the within-cluster gain (:mod:`.verdict`): 0 under
Definition 1 (recognition), 1 under Definition 2 (reconstruction), the call made at ½. Every
shape distance is taken against dense references and reported as an excess over the sampling
floor (:mod:`.references`), so model and baselines are scored identically.

Descriptive evidence beside it, recorded in ``diagnosis.json``:

- the clustering tendencies (eq. 10) of the training images (ℓ1), the training shapes and the
  test predictions, each with its clusters, bootstrap interval, and a "clustered" call against a
  null reference of the same scale (:func:`svrlens.tendency.null_tendency`);
- the Case (sec. 3.1) from those calls: 1 = shapes clustered, images not; 2 = neither;
  3 = both; 4 = images clustered, shapes not (not named in the paper);
- Chamfer (eq. 2) against the dense truth, its excess over the floor, and F-scores of the model and
  of the Oracle-NN, retrieval and clustering baselines, with paired comparisons (:mod:`.compare`);
- memorisation per test sample: ``m = (d(truth, T) − d(prediction, T)) / d(truth, T)`` with
  d(·, T) the excess to the nearest training shape, a prediction standing for the test truth it
  lands on: near 1 when the prediction is a training shape, 0 when it is as close to them as the
  truth is;
- the field's other instruments (:mod:`.instruments`): the dispersion score over a K sweep of the
  training images, training shapes and predictions with the scale-free ratio DS(predictions) /
  DS(test truths) (``"dispersion"``), and the copying test Z_U / C_T (``"copying"``).
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np

from svrlens import __version__
from svrlens.tendency import clustering_tendency, null_tendency

from . import instruments
from .baselines import clustering, oracle_nn, retrieval
from .compare import paired_comparisons
from .config import DIAGNOSIS_REVISION, EvaluationConfig
from .images import image_distances as images_distances
from .metrics import per_sample_metrics, point_spacing, thresholds_for
from .references import (
    centre,
    default_chamfer,
    excess_matrix,
    excess_noise,
    make_references,
    sampling_summary,
    score_matrix,
    shape_distances,
    symmetrise,
)
from .summary import case_of, evidence_lines
from .verdict import truth_positions, verdict_sentence, within_cluster_gain

METHODS = ("model", "oracle_nn", "retrieval", "clustering")


def chamfer_device():
    """The device of a diagnosis's Chamfer matrices: "cuda" when torch sees a GPU, else None (numba
    on the CPU); numpy in, numpy out either way."""
    import torch

    return "cuda" if torch.cuda.is_available() else None


def _tendency(distances, config: EvaluationConfig, *, null: bool = True) -> dict:
    result = clustering_tendency(
        distances, random_state=config.seed, n_bootstrap=config.n_bootstrap, confidence=config.confidence
    ).to_dict()
    result.pop("scan")
    if null:
        result["null"] = null_tendency(
            distances, n_references=config.null_references, random_state=config.seed
        )
        result["clustered"] = result["null"]["clustered"]
    return result


MAX_COORDINATE = 1e15  # float32 squares overflow near 1.8e19; far below that the Chamfer is still finite


def coordinate_problem(points: np.ndarray) -> str | None:
    """Why ``points`` cannot be scored (a coordinate beyond ±:data:`MAX_COORDINATE`, where the
    Chamfer kernels' squared distances would overflow), or None."""
    largest = float(np.abs(points).max()) if np.size(points) else 0.0
    if largest > MAX_COORDINATE:
        return f"expected coordinates within ±{MAX_COORDINATE:.0e}, found {largest:.3g}"
    return None


def _check_predictions(predictions, test_points: np.ndarray, seed: int) -> np.ndarray:
    """(N_test, P, 3) float64 predictions, resampled (with a warning) to the truths' P points."""
    predictions = np.asarray(predictions)
    if predictions.ndim != 3 or predictions.shape[-1] != 3 or predictions.shape[1] == 0:
        raise ValueError(f"predictions: expected (N, P, 3), found {predictions.shape}")
    if len(predictions) != len(test_points):
        raise ValueError(
            f"predictions: expected one per test sample ({len(test_points)}), found {len(predictions)}"
        )
    if not np.issubdtype(predictions.dtype, np.floating) and not np.issubdtype(predictions.dtype, np.integer):
        raise ValueError(f"predictions: expected real coordinates, found dtype {predictions.dtype}")
    predictions = predictions.astype(np.float64)
    if not np.isfinite(predictions).all():
        raise ValueError("predictions: expected finite coordinates, found NaN or inf")
    problem = coordinate_problem(predictions)
    if problem:
        raise ValueError(f"predictions: {problem}")
    points = test_points.shape[1]
    if predictions.shape[1] != points:
        # The sampling floor is measured at the truths' point count; outputs must match it.
        warnings.warn(
            f"predictions have {predictions.shape[1]} points; resampled to the truths' {points} "
            f"(seed {seed}) so that they are scored at the sampling floor's density",
            stacklevel=3,
        )
        rng = np.random.default_rng([seed, 37])
        replace = predictions.shape[1] < points
        predictions = np.stack([p[rng.choice(len(p), points, replace=replace)] for p in predictions])
    return predictions


def _baselines(train, test, shapes: dict, matrices: dict) -> tuple[dict, np.ndarray]:
    """Training-set indices each baseline predicts per test sample (Tatarchenko et al. 2019)."""
    test_images, train_images = np.asarray(test.images), np.asarray(train.images)
    cluster = clustering(
        test_images,
        train_images,
        None,
        shape_distances=matrices["train_shapes"],
        shape_labels=np.asarray(shapes["labels"], np.int64),
    )
    chosen = {
        # The training shape that scores best against the truth (it sees the answer).
        "oracle_nn": oracle_nn(None, None, distances=matrices["train_to_test"].T)[0],
        "retrieval": retrieval(test_images, train_images),
        "clustering": cluster["index"],
    }
    return chosen, cluster["medoids"]


def _metrics(outputs: dict, test_dense: np.ndarray, floors: np.ndarray, config: EvaluationConfig) -> dict:
    metrics = {}
    for name, clouds in outputs.items():
        m = per_sample_metrics(clouds, test_dense, thresholds=config.thresholds, relative=config.relative)
        m["excess"] = m["chamfer"] - np.nan_to_num(floors)
        metrics[name] = m
    return metrics


def _summary(m: dict, config: EvaluationConfig) -> dict:
    """Means over the test samples with bootstrap intervals (scipy, percentile)."""
    from scipy import stats

    def interval(values):
        values = np.asarray(values, np.float64)
        if np.all(values == values[0]):
            return [float(values[0])] * 2
        with np.errstate(all="ignore"):
            ci = stats.bootstrap(
                (values,),
                np.mean,
                n_resamples=config.n_bootstrap,
                confidence_level=config.confidence,
                method="percentile",
                rng=np.random.default_rng([config.seed, 41]),
            ).confidence_interval
        return [float(ci.low), float(ci.high)]

    fscore = m["fscore"]
    return {
        "chamfer": float(m["chamfer"].mean()),
        "chamfer_interval": interval(m["chamfer"]),
        "excess": float(m["excess"].mean()),
        "excess_interval": interval(m["excess"]),
        "fscore": [float(v) for v in fscore.mean(0)],
        "fscore_interval": [interval(fscore[:, k]) for k in range(fscore.shape[1])],
    }


def _matrices(
    train_refs, test_refs, train_points, test_points, predictions, chamfer_matrix, data_matrix
) -> dict:
    """Every shape matrix of a diagnosis (the expensive part: O(N·M·P·D)); those of data alone
    through ``data_matrix``."""
    truth_to_test = excess_matrix(test_points, test_refs, data_matrix)
    return {
        "train_shapes": shape_distances(train_refs, data_matrix),
        "test_shapes": symmetrise(truth_to_test),
        "truth_to_test": truth_to_test,
        "train_to_test": score_matrix(train_points, test_refs, data_matrix),
        "truth_to_train": excess_matrix(test_points, train_refs, data_matrix),
        "pred_to_train": excess_matrix(predictions, train_refs, chamfer_matrix),
        "pred_to_test": excess_matrix(predictions, test_refs, chamfer_matrix),
        "predictions": np.asarray(chamfer_matrix(predictions)),
    }


def _verdict(test, matrices: dict, train_labels: np.ndarray, config: EvaluationConfig) -> dict:
    groups = train_labels[matrices["pred_to_train"].argmin(1)]
    nearest_truth = matrices["pred_to_test"].argmin(1)
    settings = dict(n_resamples=config.n_bootstrap, confidence=config.confidence, seed=config.seed)
    forms = {}
    morph = None if test.morph is None else np.asarray(test.morph)
    for morph_or_none in (morph, None) if morph is not None else (None,):
        y, form = truth_positions(morph_or_none, matrices["test_shapes"])
        forms[form] = within_cluster_gain(y[nearest_truth], y, groups, form=form, **settings)
        forms[form]["positions"] = {"truth": y.tolist(), "predicted": y[nearest_truth].tolist()}
    primary = forms["morph"] if "morph" in forms else forms["model-free"]
    out = {"verdict": primary["verdict"], "statistic": primary["statistic"], "groups": groups.tolist()}
    out["positions"] = primary["positions"]
    if "morph" in forms:  # the model-free form beside it: a check that it agrees where both exist
        out["statistic_model_free"] = forms["model-free"]["statistic"] | {
            "verdict": forms["model-free"]["verdict"]
        }
    return out


def diagnose(
    train,
    test,
    predictions,
    *,
    config: EvaluationConfig | None = None,
    codewords=None,
    figures_dir=None,
    chamfer_matrix=None,
    data_chamfer_matrix=None,
    save_matrices: bool = False,
    image_features=None,
    progress: bool = False,
) -> dict:
    """Diagnose predictions of a model trained on ``train``, for the samples of ``test``.

    Parameters
    ----------
    train, test : svrlens.data.Dataset
        The training split and the test split (e.g. ``dataset.subset("train")``): images uint8
        (N, H, W, 3), points float (N, P, 3), and optionally dense (N, D, 3), morph (N, K), labels.
    predictions : ndarray of shape (N_test, P', 3)
        In the order of ``test``; resampled (with a warning) to P points when P' ≠ P.
    config : EvaluationConfig, default=EvaluationConfig()
    codewords : ndarray of shape (N_test, C), optional
        A seeded t-SNE and, with labels, their silhouette by label (fig. 7).
    figures_dir : path, optional
        Write the figures (PNG + SVG) there.
    chamfer_matrix : callable ``(a, b=None) -> ndarray``, optional
        Computes eq.-2 matrices (default: :func:`svrlens.geometry.pairwise_chamfer`, on the GPU
        when there is one); the Ray executor passes one that splits large matrices into tasks.
    data_chamfer_matrix : callable, optional
        The same, for the matrices of data alone (training shapes, test truths against test and
        training references, training clouds against test references); default ``chamfer_matrix``.
        A sweep passes one that caches them for its other runs on the same data.
    save_matrices : bool, default=False
        With ``figures_dir``, write ``matrices.npz`` beside it (images, shapes, predictions).
    image_features : torch module or callable, optional
        Maps uint8 images (B, H, W, 3) to features (B, F); the training images are then compared
        by feature ℓ1 instead of pixel ℓ1 (:mod:`.images`). Default: pixel ℓ1 (the paper's).

    Returns
    -------
    dict, JSON-ready: ``verdict`` ∈ {"recognition", "reconstruction", "mixed", "collapsed"},
    ``statistic`` (``name``, ``value``, ``interval``, ``null_value``, ``reconstruction_value``, …),
    ``sampling_floor`` (Chamfer, eq. 2, of a perfect sample at the evaluation density),
    ``sampling``, ``case``, ``evidence``, the three tendencies, ``dispersion`` and ``copying``
    (:mod:`.instruments`), per-method summaries, ``comparisons``, ``memorisation``,
    ``per_sample``, ``conventions``, ``provenance``.

    Raises
    ------
    ValueError
        Predictions of the wrong shape, count or dtype, or not finite; fewer than 3 training or
        test samples.
    """
    config = (config or EvaluationConfig()).validate()
    if len(train.points) < 3 or len(test.points) < 3:
        raise ValueError(
            f"expected ≥ 3 training and ≥ 3 test samples, found {len(train.points)} and {len(test.points)}"
        )
    test_points = np.asarray(test.points)
    predictions = _check_predictions(predictions, test_points, config.seed)
    chamfer_matrix = chamfer_matrix or default_chamfer(progress, chamfer_device())
    train_points, train_dense, test_points, test_dense, predictions = centre(
        train.points, train.dense, test.points, test.dense, follow=(predictions,)
    )
    train_refs = make_references(train_points, train_dense, chamfer_matrix)
    test_refs = make_references(test_points, test_dense, chamfer_matrix)
    matrices = _matrices(
        train_refs, test_refs, train_points, test_points, predictions, chamfer_matrix,
        data_chamfer_matrix or chamfer_matrix,
    )  # fmt: skip
    image_distances, image_kind = images_distances(np.asarray(train.images), image_features)
    tendencies = {
        "image_tendency": _tendency(image_distances, config),
        "shape_tendency": _tendency(matrices["train_shapes"], config),
        # Descriptive only: a continuum of outputs that curves through several MDS dimensions reads as
        # clustered against a box null of that dimension (measured), so outputs get no call.
        "output_tendency": _tendency(matrices["predictions"], config, null=False),
    }
    train_labels = np.asarray(tendencies["shape_tendency"]["labels"], np.int64)
    noise = excess_noise(test_refs, matrices["test_shapes"])
    tendencies["dispersion"] = instruments.dispersion(image_distances, image_kind, matrices, config, noise)
    tendencies["copying"] = instruments.copying(matrices, train_labels, noise)
    chosen, medoids = _baselines(train, test, tendencies["shape_tendency"], matrices)
    outputs = {"model": predictions, **{name: train_points[index] for name, index in chosen.items()}}
    metrics = _metrics(outputs, test_refs.dense, test_refs.floors, config)
    comparisons = paired_comparisons(metrics, config, METHODS[1:])
    memorisation = instruments.memorisation(matrices, noise)
    verdict = _verdict(test, matrices, train_labels, config)
    medoid_distances = matrices["train_shapes"][np.ix_(medoids, medoids)]
    separation = (
        float(np.median(medoid_distances[np.triu_indices(len(medoids), 1)])) if len(medoids) > 1 else None
    )
    sampling = sampling_summary(test_refs, predictions.shape[1], separation=separation)
    sampling["spacing"] = point_spacing(test_refs.points, test_refs.dense) if test_refs.measured else None
    sampling["excess_noise"] = noise
    _warn_thresholds(test_refs.dense, sampling["spacing"], config)
    result = {
        "verdict": verdict["verdict"],
        "verdict_sentence": verdict_sentence(verdict["verdict"], verdict["statistic"]),
        "statistic": verdict["statistic"],
        "sampling_floor": sampling["chamfer"],
        "sampling": sampling,
        **{k: v for k, v in verdict.items() if k not in ("verdict", "statistic")},
        **tendencies,
        **{name: _summary(m, config) for name, m in metrics.items()},
        "comparisons": comparisons,
        "clustering_baseline": {"n_clusters": int(train_labels.max()) + 1, "medoids": medoids.tolist()},
        "memorisation": {
            "median": float(np.nanmedian(memorisation)) if np.isfinite(memorisation).any() else None,
            "mean": float(np.nanmean(memorisation)) if np.isfinite(memorisation).any() else None,
            "undefined": int(np.isnan(memorisation).sum()),
        },
        "per_sample": _per_sample(metrics, chosen, memorisation),
        "conventions": _conventions(metrics["model"]["conventions"], config) | {"images": image_kind},
        "provenance": {
            "svrlens_version": __version__,
            "diagnosis_revision": DIAGNOSIS_REVISION,
            "seed": config.seed,
            "predictions_sha256": hashlib.sha256(np.ascontiguousarray(predictions).tobytes()).hexdigest(),
            "n_train": int(len(train_points)),
            "n_test": int(len(test_points)),
        },
    }
    result["case"] = case_of(result)
    result["evidence"] = evidence_lines(result)
    if codewords is not None:
        labels = None if test.labels is None else np.asarray(test.labels)
        codes = np.asarray(codewords, np.float64)
        result["codewords"] = instruments.codeword_analysis(codes, labels, config.seed)
    if figures_dir is not None:
        from .figures import diagnosis_figures

        shown = {"train_images": image_distances, **matrices}
        clouds = {"truth": test_points, **outputs}
        result["figures"] = diagnosis_figures(
            result, train, test, shown, clouds, metrics, figures_dir, save_matrices=save_matrices
        )
    return result


def _per_sample(metrics: dict, chosen: dict, memorisation: np.ndarray) -> dict:
    return {
        "model_chamfer": metrics["model"]["chamfer"].tolist(),
        "model_excess": metrics["model"]["excess"].tolist(),
        "model_fscore": metrics["model"]["fscore"][:, 0].tolist(),
        "oracle_nn_index": chosen["oracle_nn"].tolist(),
        "oracle_nn_excess": metrics["oracle_nn"]["excess"].tolist(),
        "memorisation": [None if np.isnan(v) else float(v) for v in memorisation],
    }


def _conventions(metric_conventions: dict, config: EvaluationConfig) -> dict:
    return metric_conventions | {
        "ground_truth": "the dense evaluation cloud of each truth (its training cloud where it has none)",
        "excess": "Chamfer minus the sampling floor of the reference (svrlens.evaluation.references)",
        "tendency": "mean silhouette (eq. 10), clusters from adaptive affinity propagation",
        "clustered": f"embedded tendency above the {config.null_references} uniform references' "
        "95th percentile",
        "verdict": "within-cluster gain: recognition below 1/2, reconstruction above, mixed across; "
        "collapsed when the global gain is below 1/2",
        "bootstrap": f"{config.n_bootstrap} resamples, {config.confidence:.0%} percentile intervals (scipy)",
    }


def _warn_thresholds(dense: np.ndarray, spacing: float | None, config: EvaluationConfig) -> None:
    if spacing is None:
        return
    absolute = np.median(thresholds_for(dense, config.thresholds, config.relative), axis=0)
    low = [t for t, a in zip(config.thresholds, absolute) if a < spacing]
    if low:
        warnings.warn(
            f"F-score thresholds {low} are below the outputs' point spacing ({spacing:.3g}): "
            "they count coincidences of points more than shape",
            stacklevel=3,
        )
