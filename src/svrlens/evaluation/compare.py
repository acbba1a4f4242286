"""Statistical comparison of per-sample scores: two-sample KS and a paired bootstrap interval."""

from __future__ import annotations

import numpy as np
from scipy import stats


def compare_scores(
    model, baseline, *, n_bootstrap: int = 2000, confidence: float = 0.95, random_state: int = 0
) -> dict:
    """Compare per-sample scores (e.g. F-scores) of a model and a baseline on the same test samples.

    Returns the means, ``mean_difference`` (model − baseline), its paired bootstrap interval
    (seeded; resamples test samples jointly), ``relative_difference`` (difference / baseline mean),
    and the two-sample Kolmogorov–Smirnov statistic and p-value. "Within 1 % of Oracle-NN" is then a
    statement about the interval of ``relative_difference``.
    """
    a = np.asarray(model, np.float64)
    b = np.asarray(baseline, np.float64)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(
            f"scores: expected two non-empty 1-D arrays of the same length, found {a.shape} and {b.shape}"
        )
    rng = np.random.default_rng(random_state)
    diff = a - b
    boot = np.array([diff[rng.integers(0, diff.size, diff.size)].mean() for _ in range(n_bootstrap)])
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(boot, [tail, 100 - tail])
    ks = stats.ks_2samp(a, b)
    scale = abs(b.mean()) if b.mean() != 0 else 1.0
    return {
        "model_mean": float(a.mean()),
        "baseline_mean": float(b.mean()),
        "mean_difference": float(diff.mean()),
        "difference_interval": [float(low), float(high)],
        "relative_difference": float(diff.mean() / scale),
        "relative_interval": [float(low / scale), float(high / scale)],
        "ks_statistic": float(ks.statistic),
        "ks_pvalue": float(ks.pvalue),
        "confidence": confidence,
    }
