"""``clustering_tendency``: the paper's measuring instrument (eq. 10) with its evidence."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ._checks import check_distances, check_labels
from .affinity import AdaptiveAffinityPropagation, AffinityPropagation
from .silhouette import silhouette_samples

METHODS = ("adaptive-ap", "ap", "labels")


@dataclass
class TendencyResult:
    """Clustering tendency of one distance matrix.

    Attributes
    ----------
    score : float
        Mean silhouette (eq. 10); 0 when there is a single cluster or one per sample.
    labels : ndarray of shape (n_samples,)
    n_clusters : int
    method : str
        ``"adaptive-ap"``, ``"ap"`` or ``"labels"``.
    preference : float or None
        Affinity-propagation preference used (None for given labels).
    interval : tuple of float
        Bootstrap confidence interval of the score (percentile, seeded; resamples the
        per-sample silhouettes, so it is conditional on the clustering).
    confidence : float
    scan : list of dict
        The adaptive scan (preference, K, silhouette, iterations, converged, damping).
    """

    score: float
    labels: np.ndarray
    n_clusters: int
    method: str
    preference: float | None
    interval: tuple[float, float]
    confidence: float = 0.95
    damping: float | None = None
    converged: bool | None = None
    scan: list = field(default_factory=list)

    def __repr__(self) -> str:
        """One line: score, interval, K and method (the labels and the scan are attributes)."""
        low, high = self.interval
        return (
            f"TendencyResult(score={self.score:.4f}, interval=[{low:.4f}, {high:.4f}], "
            f"n_clusters={self.n_clusters}, n_samples={len(self.labels)}, method={self.method!r})"
        )

    def to_dict(self) -> dict:
        """JSON-ready dict (labels as a list)."""
        out = asdict(self)
        out["labels"] = [int(v) for v in self.labels]
        out["interval"] = [float(v) for v in self.interval]
        return out


def bootstrap_interval(samples: np.ndarray, *, n_bootstrap=1000, confidence=0.95, random_state=0):
    """Percentile interval of the mean of ``samples`` over seeded bootstrap resamples."""
    if samples.size == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(random_state)
    means = np.empty(n_bootstrap)
    for b in range(n_bootstrap):
        means[b] = samples[rng.integers(0, samples.size, samples.size)].mean()
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return (float(low), float(high))


def clustering_tendency(
    distances,
    labels=None,
    *,
    method="adaptive-ap",
    random_state=0,
    n_bootstrap=1000,
    confidence=0.95,
    **ap_params,
):
    """Clustering tendency of a data set from its distance matrix (paper sec. 2.3, eq. 10).

    Parameters
    ----------
    distances : ndarray or Tensor of shape (n_samples, n_samples)
        Precomputed distances: Chamfer between clouds, ℓ1 between images.
    labels : array-like of shape (n_samples,), default=None
        Ground-truth clusters; when given they are used (``method`` becomes ``"labels"``).
    method : {"adaptive-ap", "ap", "labels"}, default="adaptive-ap"
        How clusters are found when no labels are given. ``"ap"`` is plain affinity
        propagation at the median preference (scikit-learn's default, which over-splits as N
        grows); ``"adaptive-ap"`` picks the preference by the best silhouette.
    random_state : int, default=0
        Seed of the clustering's tie-breaking noise and of the bootstrap.
    n_bootstrap : int, default=1000
    confidence : float, default=0.95
    **ap_params
        Passed to the affinity-propagation estimator (e.g. ``damping``, ``device``).

    Returns
    -------
    TendencyResult
    """
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, found {method!r}")
    if not 0 < confidence < 1 or int(n_bootstrap) < 1:
        raise ValueError(
            f"confidence and n_bootstrap: expected (0, 1) and ≥ 1, found {confidence} and {n_bootstrap}"
        )
    distances = check_distances(distances)
    n = distances.shape[0]
    preference = damping = converged = None
    scan = []
    if labels is not None or method == "labels":
        if labels is None:
            raise ValueError("labels: method 'labels' needs labels, found none")
        labels = check_labels(labels, n)
        method = "labels"
    else:
        estimator_cls = AdaptiveAffinityPropagation if method == "adaptive-ap" else AffinityPropagation
        estimator = estimator_cls(random_state=random_state, **ap_params).fit(distances)
        labels, preference = estimator.labels_, estimator.preference_
        damping, converged = getattr(estimator, "damping_", None), estimator.converged_
        scan = [asdict(step) for step in getattr(estimator, "scan_", [])]
    n_clusters = int(np.unique(labels).size)
    if 2 <= n_clusters <= n - 1:
        samples = silhouette_samples(distances, labels, check=False)
    else:  # one cluster, or one per sample: no structure to measure
        samples = np.zeros(n)
    interval = bootstrap_interval(
        samples, n_bootstrap=int(n_bootstrap), confidence=confidence, random_state=random_state
    )
    return TendencyResult(
        float(samples.mean()),
        labels,
        n_clusters,
        method,
        preference,
        interval,
        confidence,
        damping,
        converged,
        scan,
    )
