"""Recognition or reconstruction? The diagnosis of a model's test predictions (paper secs. 2–4).

Evidence, all recorded in ``diagnosis.json``:

- input tendencies — training images (ℓ1) and training shapes (Chamfer) — and the output
  tendency of the test predictions (Chamfer), each with its clusters and bootstrap interval;
- the Case (sec. 3.1): 1 = shapes clustered, images not; 3 = both clustered; 2 = otherwise
  (shapes not clustered), with "clustered" meaning a tendency ≥ ``case_threshold``;
- Chamfer / F-score of the model and of the Oracle-NN, retrieval and clustering baselines, with
  KS tests and paired bootstrap intervals of the model's difference to each;
- a per-sample memorisation score: ``m = (d(gt, T) − d(pred, T)) / d(gt, T)`` where d(·, T) is the
  Chamfer distance to the nearest training shape (and, second variant, to the nearest cluster
  medoid). m = 1: the prediction *is* a training shape; m ≤ 0: no closer to the training shapes
  than the truth is; undefined (NaN, left out of means) where the truth itself is a training shape.

Verdict: "recognition" when the predictions are clustered (output tendency ≥ ``case_threshold``)
*and* memorised (median m ≥ ``memorisation_threshold``), as the paper's Definition 1 describes a
network that emits one of a few stored shapes; "reconstruction" otherwise.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from svrlens import __version__
from svrlens.geometry import pairwise_chamfer, pairwise_l1
from svrlens.io import atomic_write
from svrlens.tendency import bootstrap_interval, clustering_tendency, silhouette_score

from .baselines import clustering, oracle_nn, retrieval
from .compare import compare_scores
from .metrics import per_sample_metrics

# Measured on the synthetic families (1.1.n / 1.2.n, 128 px, 1024 points): clustered sets score
# 0.84–1.0, continuous ones 0.42–0.60; 0.7 separates them.
CASE_THRESHOLD = 0.7
MEMORISATION_THRESHOLD = 0.5


def _device():
    """The large Chamfer matrices go to the GPU when there is one (numpy in, numpy out)."""
    import torch

    return "cuda" if torch.cuda.is_available() else None


def _tendency(distances, seed):
    result = clustering_tendency(distances, random_state=seed).to_dict()
    result.pop("scan")
    return result


def _memorisation(gt_to_reference: np.ndarray, pred_to_reference: np.ndarray) -> np.ndarray:
    d_gt = gt_to_reference.min(1)
    d_pred = pred_to_reference.min(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d_gt > 0, (d_gt - d_pred) / np.where(d_gt > 0, d_gt, 1.0), np.nan)


def _summary_metrics(metrics: dict, random_state: int) -> dict:
    """Means over the test samples with seeded 95 % bootstrap intervals."""
    fscore = metrics["fscore"]
    return {
        "chamfer": float(metrics["chamfer"].mean()),
        "fscore": [float(v) for v in fscore.mean(0)],
        "chamfer_interval": list(bootstrap_interval(metrics["chamfer"], random_state=random_state)),
        "fscore_interval": [
            list(bootstrap_interval(fscore[:, k], random_state=random_state)) for k in range(fscore.shape[1])
        ],
    }


def diagnose(
    train_images,
    train_points,
    test_images,
    test_points,
    predictions,
    *,
    thresholds=(0.01, 0.02, 0.05),
    relative=True,
    case_threshold=CASE_THRESHOLD,
    memorisation_threshold=MEMORISATION_THRESHOLD,
    random_state=0,
    progress=False,
    codewords=None,
    test_labels=None,
    train_order=None,
    test_order=None,
    figures_dir=None,
    cache_dir=None,
    chamfer_matrix=None,
    save_matrices=False,
) -> dict:
    """Diagnose predictions (N_test, P, 3) of a model trained on (train_images, train_points).

    Parameters
    ----------
    train_images : uint8 (N_train, H, W, 3);  train_points : float (N_train, P, 3)
    test_images : uint8 (N_test, H, W, 3);  test_points : float (N_test, P, 3) ground truth
    predictions : float (N_test, P', 3), in the order of the test samples
    thresholds, relative : F-score thresholds (see :func:`per_sample_metrics`)
    case_threshold : tendency at and above which a set counts as clustered
    memorisation_threshold : median memorisation at and above which predictions count as memorised
        (the median: the ratio is heavy-tailed where the truth lies very near a training shape;
        on set 1.1.7 of the laptop sweep of 2026-11-24, the mean was −28 at 100 epochs)
    codewords : float (N_test, D), optional — t-SNE (seeded) and, with ``test_labels``, their
        silhouette by label (fig. 7)
    train_order, test_order : optional orderings of the samples for the distance-matrix figure
        (e.g. by morph parameter), so structure is visible
    figures_dir : write the figures (PNG + SVG) there
    cache_dir : compute the test × train Chamfer matrix (the largest) in resumable blocks there
    chamfer_matrix : optional callable ``(a, b=None) -> (Na, Nb) ndarray`` computing the Chamfer
        matrices (default :func:`pairwise_chamfer`); the Ray executor splits them into tasks
    save_matrices : with ``figures_dir``, also write ``matrices.npz`` beside it: the three
        distance matrices (training images, training shapes, predictions) in figure order

    Returns
    -------
    dict, JSON-ready: ``case``, ``verdict``, ``evidence``, ``image_tendency``, ``shape_tendency``,
    ``output_tendency``, ``model`` / ``oracle_nn`` / ``retrieval`` / ``clustering`` (each with
    ``chamfer`` and ``fscore`` per threshold), ``comparisons``, ``memorisation`` and ``per_sample``.
    """
    train_points = np.asarray(train_points, np.float32)
    test_points = np.asarray(test_points, np.float32)
    predictions = np.asarray(predictions, np.float32)
    if predictions.shape[0] != test_points.shape[0]:
        raise ValueError(
            f"predictions: expected one per test sample ({test_points.shape[0]}), "
            f"found {predictions.shape[0]}"
        )
    if len(train_points) < 3 or len(test_points) < 3:
        raise ValueError(
            f"expected ≥ 3 training and ≥ 3 test samples, found {len(train_points)} and {len(test_points)}"
        )

    device = _device()
    if chamfer_matrix is None:

        def chamfer_matrix(a, b=None):
            return pairwise_chamfer(a, b, progress=progress, device=device)

    train_shapes = chamfer_matrix(train_points)
    train_image_distances = pairwise_l1(train_images)
    output_distances = chamfer_matrix(predictions)
    tendencies = {
        "image_tendency": _tendency(train_image_distances, random_state),
        "shape_tendency": _tendency(train_shapes, random_state),
        "output_tendency": _tendency(output_distances, random_state),
    }
    if cache_dir is not None:
        from .blocks import blocked_chamfer

        truth_to_train = blocked_chamfer(
            test_points, train_points, cache_dir=cache_dir, progress=progress, device=device
        )
    else:
        truth_to_train = chamfer_matrix(test_points, train_points)  # (N_test, N_train), reused below
    oracle_index, _ = oracle_nn(test_points, train_points, distances=truth_to_train)
    cluster = clustering(
        test_images,
        train_images,
        train_points,
        shape_distances=train_shapes,
        shape_labels=tendencies["shape_tendency"]["labels"],
        random_state=random_state,
    )
    predicted = {
        "model": predictions,
        "oracle_nn": train_points[oracle_index],
        "retrieval": train_points[retrieval(test_images, train_images)],
        "clustering": train_points[cluster["index"]],
    }
    metrics = {
        name: per_sample_metrics(points, test_points, thresholds=thresholds, relative=relative)
        for name, points in predicted.items()
    }
    comparisons = {
        name: {
            "fscore": compare_scores(
                metrics["model"]["fscore"][:, 0], metrics[name]["fscore"][:, 0], random_state=random_state
            ),
            "chamfer": compare_scores(
                metrics["model"]["chamfer"], metrics[name]["chamfer"], random_state=random_state
            ),
        }
        for name in ("oracle_nn", "retrieval", "clustering")
    }

    medoid_points = train_points[cluster["medoids"]]
    memorisation = {
        "nearest_training_shape": _memorisation(truth_to_train, chamfer_matrix(predictions, train_points)),
        "nearest_medoid": _memorisation(
            pairwise_chamfer(test_points, medoid_points), pairwise_chamfer(predictions, medoid_points)
        ),
    }

    shapes_clustered = tendencies["shape_tendency"]["score"] >= case_threshold
    images_clustered = tendencies["image_tendency"]["score"] >= case_threshold
    case = 1 if shapes_clustered and not images_clustered else 3 if shapes_clustered else 2
    outputs_clustered = tendencies["output_tendency"]["score"] >= case_threshold
    memorised = float(np.nanmedian(memorisation["nearest_training_shape"])) >= memorisation_threshold
    verdict = "recognition" if outputs_clustered and memorised else "reconstruction"
    output = tendencies["output_tendency"]
    oracle_f = comparisons["oracle_nn"]["fscore"]
    clustering_f = comparisons["clustering"]["fscore"]
    evidence = [
        f"training shapes {'are' if shapes_clustered else 'are not'} clustered "
        f"(tendency {tendencies['shape_tendency']['score']:.3f}), "
        f"training images {'are' if images_clustered else 'are not'} "
        f"(tendency {tendencies['image_tendency']['score']:.3f}): Case {case}",
        f"predictions {'are' if outputs_clustered else 'are not'} clustered "
        f"(output tendency {output['score']:.3f}, K={output['n_clusters']})",
        f"median memorisation {np.nanmedian(memorisation['nearest_training_shape']):.3f} "
        "(1 = predictions are training shapes, 0 = as close as the truth)",
        f"F-score of the model minus Oracle-NN: {oracle_f['relative_difference']:+.1%} "
        f"[{oracle_f['relative_interval'][0]:+.1%}, {oracle_f['relative_interval'][1]:+.1%}]",
        f"F-score of the model minus the clustering baseline: {clustering_f['mean_difference']:+.3f} "
        f"(KS p = {clustering_f['ks_pvalue']:.2g})",
    ]
    result = {
        "case": case,
        "verdict": verdict,
        "evidence": evidence,
        **tendencies,
        **{name: _summary_metrics(m, random_state) for name, m in metrics.items()},
        "comparisons": comparisons,
        "clustering_baseline": {"n_clusters": cluster["n_clusters"], "medoids": cluster["medoids"].tolist()},
        "memorisation": {
            k: {
                "mean": float(np.nanmean(v)),
                "median": float(np.nanmedian(v)),
                "undefined": int(np.isnan(v).sum()),
            }
            for k, v in memorisation.items()
        },
        "per_sample": {
            "model_chamfer": metrics["model"]["chamfer"].tolist(),
            "model_fscore": metrics["model"]["fscore"][:, 0].tolist(),
            "oracle_nn_index": oracle_index.tolist(),
            "memorisation": [
                None if np.isnan(v) else float(v) for v in memorisation["nearest_training_shape"]
            ],
        },
        "conventions": metrics["model"]["conventions"]
        | {
            "case_threshold": case_threshold,
            "memorisation_threshold": memorisation_threshold,
            "tendency": "mean silhouette (eq. 10), clusters from adaptive affinity propagation",
        },
        "provenance": {
            "svrlens_version": __version__,
            "random_state": random_state,
            "predictions_sha256": hashlib.sha256(predictions.tobytes()).hexdigest(),
            "n_train": int(len(train_points)),
            "n_test": int(len(test_points)),
        },
    }
    if codewords is not None:
        result["codewords"] = _codeword_analysis(np.asarray(codewords, np.float64), test_labels, random_state)
    if figures_dir is not None:
        from . import figures

        out = Path(figures_dir)
        order = {
            "training images (ℓ1)": train_order,
            "training shapes (Chamfer)": train_order,
            "test predictions (Chamfer)": test_order,
        }
        matrices = {
            "training images (ℓ1)": train_image_distances,
            "training shapes (Chamfer)": train_shapes,
            "test predictions (Chamfer)": output_distances,
        }
        figures.distance_matrices_figure(matrices, out / "distance_matrices.png", order=order)
        if save_matrices:
            ordered = [m if o is None else m[np.ix_(o, o)] for m, o in zip(matrices.values(), order.values())]
            atomic_write(
                out.parent / "matrices.npz",
                lambda handle: np.savez_compressed(
                    handle,
                    train_images=ordered[0].astype(np.float32),
                    train_shapes=ordered[1].astype(np.float32),
                    predictions=ordered[2].astype(np.float32),
                ),
            )
        label = f"{thresholds[0] if np.ndim(thresholds) else thresholds:g}" + (
            " of the box side" if relative else ""
        )
        figures.scores_figure(metrics, out / "scores.png", threshold_label=label)
        figures.tendency_figure({"this data": result}, out / "tendencies.png")
        figures.qualitative_figure(
            test_images,
            {"prediction": predictions, "ground truth": test_points, "Oracle-NN": predicted["oracle_nn"]},
            out / "qualitative.png",
            seed=random_state,
        )
        if codewords is not None:
            figures.tsne_figure(
                np.asarray(result["codewords"]["tsne"]),
                test_labels,
                out / "tsne.png",
                title="t-SNE of test codewords" + ("" if test_labels is None else " (colour: label)"),
            )
        result["figures"] = sorted(p.name for p in out.glob("*.png"))
    return result


def _codeword_analysis(codewords: np.ndarray, labels, random_state: int) -> dict:
    """Seeded 2-D t-SNE of the codewords and their silhouette by label (Euclidean), fig. 7."""
    from scipy.spatial.distance import cdist
    from sklearn.manifold import TSNE

    n = len(codewords)
    embedding = TSNE(
        n_components=2, perplexity=float(min(30, max(2, (n - 1) // 3))), init="pca", random_state=random_state
    ).fit_transform(codewords)
    out = {"tsne": embedding.tolist(), "silhouette_by_label": None}
    if labels is not None and 2 <= len(np.unique(labels)) <= n - 1:
        d = cdist(codewords, codewords)
        np.fill_diagonal(d, 0.0)
        out["silhouette_by_label"] = silhouette_score(d, np.asarray(labels), check=False)
    return out


def format_summary(result: dict) -> str:
    """A one-screen text summary with the verdict first."""
    t = "\n".join(f"  - {line}" for line in result["evidence"])
    rows = "\n".join(
        f"  {name:12s} Chamfer {result[name]['chamfer']:.4f}   F-score {result[name]['fscore'][0]:.3f}"
        for name in ("model", "oracle_nn", "retrieval", "clustering")
    )
    thr = result["conventions"]
    unit = "of the bounding-box side" if thr["thresholds_relative"] else "absolute"
    return (
        f"verdict: {result['verdict'].upper()} (Case {result['case']})\n{t}\n\n{rows}\n"
        f"  (Chamfer: {thr['chamfer']}; F-score at {thr['thresholds'][0]:g} {unit})"
    )
