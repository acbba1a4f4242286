"""Paired comparison of per-sample scores: a signed-rank test and bootstrap intervals.

Model and baseline are scored on the *same* test samples, so the comparison is paired: the
Wilcoxon signed-rank test on the per-sample differences (not a two-sample test, which ignores the
pairing), and scipy's paired percentile bootstrap for the mean difference and for the *ratio* of
the means. A relative claim ("within 1 % of Oracle-NN") is a statement about the ratio's interval,
which, unlike a bootstrapped difference divided by a fixed mean, can never imply less than −100 %
for positive scores.
"""

from __future__ import annotations

import numpy as np


def _paired_interval(statistic, a, b, *, n_bootstrap: int, confidence: float, seed: int) -> list[float]:
    from scipy import stats  # imported here: ~0.8 s of every command's start otherwise

    if np.all(a == a[0]) and np.all(b == b[0]):  # no spread: every resample gives the same value
        value = float(statistic(a, b, axis=-1))
        return [value, value]
    with np.errstate(all="ignore"):
        result = stats.bootstrap(
            (a, b),
            statistic,
            paired=True,
            vectorized=True,
            n_resamples=n_bootstrap,
            confidence_level=confidence,
            method="percentile",
            rng=np.random.default_rng([seed, 31]),
        )
    return [float(result.confidence_interval.low), float(result.confidence_interval.high)]


def _difference(a, b, axis=-1):
    return a.mean(axis) - b.mean(axis)


def _ratio(a, b, axis=-1):
    return a.mean(axis) / b.mean(axis)


def compare_scores(
    model, baseline, *, n_bootstrap: int = 2000, confidence: float = 0.95, seed: int = 0
) -> dict:
    """Compare per-sample scores of a model and a baseline on the same test samples.

    Parameters
    ----------
    model, baseline : array-like of shape (N,)
        Per-sample scores (e.g. Chamfer or F-score), paired by test sample.
    n_bootstrap : int, default=2000
    confidence : float, default=0.95
    seed : int, default=0

    Returns
    -------
    dict
        ``model_mean``, ``baseline_mean``; ``mean_difference`` (model − baseline) and its paired
        bootstrap ``difference_interval``; ``ratio`` (model mean / baseline mean) and its
        ``ratio_interval`` (None where the baseline mean is not positive); ``relative_difference``
        and ``relative_interval`` (ratio − 1); ``wilcoxon_pvalue`` (two-sided signed-rank test of
        the differences; 1.0 when they are all zero); ``confidence``; ``test``.

    Raises
    ------
    ValueError
        Arrays of different shapes, not 1-D, empty, or not finite.
    """
    from scipy import stats  # imported here: ~0.8 s of every command's start otherwise

    a = np.asarray(model, np.float64)
    b = np.asarray(baseline, np.float64)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(
            f"scores: expected two non-empty 1-D arrays of the same length, found {a.shape} and {b.shape}"
        )
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("scores: expected finite values, found NaN or inf")
    settings = dict(n_bootstrap=n_bootstrap, confidence=confidence, seed=seed)
    differences = a - b
    pvalue = 1.0 if not differences.any() else float(stats.wilcoxon(differences).pvalue)
    positive = b.mean() > 0 and (b > 0).any()
    ratio = float(a.mean() / b.mean()) if positive else None
    ratio_interval = _paired_interval(_ratio, a, b, **settings) if positive else None
    return {
        "model_mean": float(a.mean()),
        "baseline_mean": float(b.mean()),
        "mean_difference": float(differences.mean()),
        "difference_interval": _paired_interval(_difference, a, b, **settings),
        "ratio": ratio,
        "ratio_interval": ratio_interval,
        "relative_difference": None if ratio is None else ratio - 1.0,
        "relative_interval": None if ratio_interval is None else [v - 1.0 for v in ratio_interval],
        "wilcoxon_pvalue": pvalue,
        "confidence": confidence,
        "test": "paired: Wilcoxon signed-rank; percentile bootstrap of the mean difference and of "
        "the ratio of means",
    }


def paired_comparisons(metrics: dict, config, methods) -> dict:
    """The model against each baseline in ``methods``, per sample and paired: Chamfer, excess and
    F-score at the first threshold (:func:`compare_scores`, settings from ``config``)."""
    settings = dict(n_bootstrap=config.n_bootstrap, confidence=config.confidence, seed=config.seed)
    model = metrics["model"]
    return {
        name: {
            "chamfer": compare_scores(model["chamfer"], metrics[name]["chamfer"], **settings),
            "excess": compare_scores(model["excess"], metrics[name]["excess"], **settings),
            "fscore": compare_scores(model["fscore"][:, 0], metrics[name]["fscore"][:, 0], **settings),
        }
        for name in methods
    }
