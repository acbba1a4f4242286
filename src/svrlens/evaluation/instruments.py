"""The field's other instruments beside the verdict, on the diagnosis's fair distances (issue 14).

- **Dispersion score** (Zhou et al., 3DV 2021; :mod:`svrlens.tendency.dispersion`): k-medoids
  inertia per sample over a K sweep, of the training images (their distance matrix) and of the
  training shapes (the symmetrised excess between them, :mod:`.references`), and of the test
  predictions. DS is in the units of its distance, so the predictions are read against the test
  truths, scale-free: **ratio = DS(predictions) / DS(test truths)**. Both are measured on the
  test truths' shape distances: each prediction stands for the test truth it lands on (nearest in
  excess over the sampling floor, as the verdict's positions do), so two predictions are as far
  apart as the truths they land on. The sampling of a cloud and small output noise therefore do
  not count as dispersion (measured: on the raw excess of the outputs, a reconstructor with 2 %
  point jitter read 8× the truths' DS at K = 2, and the truths' own DS fell to the noise at
  K ≥ 5). An exact or noisy reconstructor reads 1 (its outputs land on their own truths); outputs
  that gather on fewer shapes than K read below 1. The ratio is undefined (None) where DS(test
  truths) is within twice the excess noise (:func:`.references.excess_noise`), the rule the
  memorisation ratio follows. The interval is a paired percentile bootstrap over the test
  samples, conditional on the medoids.
- **Copying test** (Meehan et al. 2020's Z_U and C_T; :mod:`.copying`): the excess of each test
  truth to its nearest training shape, per training-shape cluster, against that of the test truths
  the predictions land on. Landing, as for the DS ratio, because a network's outputs and the truths
  are *different samplings*: a folded grid spreads its points more evenly than random surface
  samples do, so its Chamfer to any dense reference is lower by a near-constant offset (measured on
  the laptop models of 1.1.n: median raw excess −0.010 for the predictions against −0.001 for the
  truths), and on raw excesses every prediction sat below every truth (U = 0, C_T at its bound)
  whatever the model did. The argmin that lands a prediction is unchanged by an offset common to
  all references, so the landed reading is free of it; its resolution is the test set (a copy of a
  training shape reads as the test truth nearest to it). The raw reading is kept (``"unlanded"``).
"""

from __future__ import annotations

import numpy as np

from svrlens.tendency import dispersion_sweep, silhouette_score

from .config import EvaluationConfig
from .copying import copying_test, z_u

ROLES = {
    "images": "the training images' distance matrix; medoids among them",
    "shapes": "Chamfer excess between training shapes (symmetrised); medoids among them",
    "predictions": "Chamfer excess (symmetrised) between the test truths the predictions land on "
    "(nearest in excess); medoids among the predictions",
    "test_truths": "Chamfer excess (symmetrised) between test truths; medoids among them",
}


def landed_truths(matrices: dict) -> np.ndarray:
    """(N_pred,) int: the test truth each prediction lands on (least excess over the sampling
    floor; ``matrices["pred_to_test"]`` is (N_pred, N_test)). An offset common to every reference
    (the output's own sampling regularity) does not move the argmin."""
    return np.asarray(matrices["pred_to_test"]).argmin(1)


def memorisation(matrices: dict, noise: float | None) -> np.ndarray:
    """(N_test,) float64: per test sample, (d(truth, T) − d(prediction, T)) / d(truth, T) with
    d(·, T) the excess to the nearest training shape (``matrices["truth_to_train"]``, (N_test, T)),
    a prediction standing for the test truth it lands on (:func:`landed_truths`: its own excess
    carries its sampling's offset). Near 1 for a training shape, 0 as close as the truth; NaN where
    the truth is within twice the excess ``noise`` of a training shape (the ratio would divide by
    noise)."""
    d_truth = np.asarray(matrices["truth_to_train"]).min(1)
    d_pred = d_truth[landed_truths(matrices)]
    defined = d_truth > 2 * (noise or 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(defined, (d_truth - d_pred) / np.where(defined, d_truth, 1.0), np.nan)


def _per_sample(distances: np.ndarray, result) -> np.ndarray:
    """Each sample's distance to its medoid, float64 (N,)."""
    return np.asarray(distances[np.arange(len(distances)), result.medoids[result.labels]], np.float64)


def ratio_interval(pred: np.ndarray, truth: np.ndarray, *, n_bootstrap: int, confidence: float, seed: int):
    """Percentile interval of mean(pred) / mean(truth) over paired resamples of the samples
    (seeded); None when some resample has a zero denominator."""
    rng = np.random.default_rng([seed, 47])
    index = rng.integers(0, len(pred), (int(n_bootstrap), len(pred)))  # (B, N)
    denominators = truth[index].mean(1)
    if np.any(denominators <= 0):
        return None
    ratios = pred[index].mean(1) / denominators
    tail = (1 - confidence) / 2 * 100
    return [float(v) for v in np.percentile(ratios, [tail, 100 - tail])]


def dispersion(
    image_distances, image_kind: str, matrices: dict, config: EvaluationConfig, noise: float | None = None
) -> dict:
    """The ``"dispersion"`` entry of ``diagnosis.json``.

    ``matrices`` needs ``train_shapes`` (T, T), ``test_shapes`` (N_test, N_test) and
    ``pred_to_test`` (N_test, N_test) (see :func:`svrlens.evaluation.diagnose`); ``noise`` is the
    excess noise (None: not measured, then only DS(test truths) = 0 leaves the ratio undefined).
    Returns ``ks``, ``headline_k``, one entry per role (``images``, ``shapes``, ``predictions``,
    ``test_truths``: ``distance`` and ``sweep``, a list of
    :class:`svrlens.tendency.DispersionResult` dicts without labels), ``ratio`` (per K: ``k``,
    ``value``, ``interval``, ``defined``) and ``noise``.
    """
    ks = tuple(config.dispersion_ks)
    settings = dict(random_state=config.seed, n_bootstrap=config.n_bootstrap, confidence=config.confidence)
    landed = landed_truths(matrices)
    shape = {
        "predictions": matrices["test_shapes"][np.ix_(landed, landed)],
        "test_truths": matrices["test_shapes"],
    }
    sweeps = {
        "images": dispersion_sweep(image_distances, ks, **settings),
        "shapes": dispersion_sweep(matrices["train_shapes"], ks, **settings),
        **{role: dispersion_sweep(d, ks, **settings) for role, d in shape.items()},
    }
    floor = 2 * (noise or 0.0)
    ratios = []
    for pred, truth in zip(sweeps["predictions"], sweeps["test_truths"]):
        defined = truth.score > floor
        value = pred.score / truth.score if defined else None
        interval = None
        if defined:
            interval = ratio_interval(
                _per_sample(shape["predictions"], pred),
                _per_sample(shape["test_truths"], truth),
                n_bootstrap=config.n_bootstrap,
                confidence=config.confidence,
                seed=config.seed,
            )
        ratios.append({"k": pred.k, "value": value, "interval": interval, "defined": bool(defined)})
    out = {"ks": list(ks), "headline_k": ks[0]}
    for role, sweep in sweeps.items():
        distance = image_kind if role == "images" else ROLES[role]
        entries = []
        for result in sweep:
            entry = result.to_dict(labels=False)
            entry.pop("labels")
            entries.append(entry)
        out[role] = {"distance": distance, "sweep": entries}
    out["ratio"] = ratios
    out["noise"] = noise
    out["meaning"] = (
        "DS = mean distance of a sample to its k-medoids medoid (Zhou et al. 2021), in the units of "
        "its distance; ratio = DS(predictions) / DS(test truths) on the test truths' shape distances "
        "(a prediction stands for the truth it lands on): 1 for a reconstructor, below 1 when the "
        "outputs gather on fewer shapes than K; undefined where DS(test truths) ≤ 2 × excess noise"
    )
    return out


def copying(matrices: dict, train_labels: np.ndarray, noise: float | None = None) -> dict:
    """The ``"copying"`` entry of ``diagnosis.json``: :func:`.copying.copying_test` of the test truths
    the predictions land on (:func:`landed_truths`) against the test truths, both as outputs against
    the training references, with the training-shape clusters as cells.

    ``matrices`` needs ``pred_to_test`` (N_pred, N_test), ``pred_to_train`` (N_pred, T) and
    ``truth_to_train`` (N_test, T); ``train_labels`` (T,) int; ``noise`` the excess noise (cells
    whose truths are within twice of it are undecidable, :func:`.copying.copying_test`). Besides
    :func:`.copying_test`'s keys, ``"unlanded"`` holds the global Z_U of the predictions' own
    excesses (``z_u``, ``p_value``, ``median_prediction``, ``median_truth``): it compares two
    samplings, not two sets of shapes (module docstring), and is reported to show that, never
    used."""
    truth_to_train = np.asarray(matrices["truth_to_train"])
    landed = landed_truths(matrices)
    out = copying_test(truth_to_train[landed], truth_to_train, train_labels, noise)
    raw_pred, raw_truth = np.asarray(matrices["pred_to_train"]).min(1), truth_to_train.min(1)
    raw = z_u(raw_pred, raw_truth)
    out["unlanded"] = {
        "z_u": raw["z_u"],
        "p_value": raw["p_value"],
        "median_prediction": float(np.median(raw_pred)),
        "median_truth": float(np.median(raw_truth)),
    }
    out["distance"] = (
        "excess over the sampling floor to the nearest training shape's dense cloud, of the test truth "
        "each prediction lands on (least excess) and of every test truth"
    )
    return out


def codeword_analysis(codewords: np.ndarray, labels, random_state: int) -> dict:
    """Seeded 2-D t-SNE of the codewords and their silhouette by label (Euclidean), fig. 7."""
    from scipy.spatial.distance import cdist
    from sklearn.manifold import TSNE

    n = len(codewords)
    perplexity = float(min(30, max(2, (n - 1) // 3)))
    embedding = TSNE(
        n_components=2, perplexity=perplexity, init="pca", random_state=random_state
    ).fit_transform(codewords)
    out = {"tsne": embedding.tolist(), "silhouette_by_label": None}
    if labels is not None and 2 <= len(np.unique(labels)) <= n - 1:
        d = cdist(codewords, codewords)
        np.fill_diagonal(d, 0.0)
        out["silhouette_by_label"] = silhouette_score(d, np.asarray(labels), check=False)
    return out
