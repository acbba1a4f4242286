"""Clustering tendency (paper sec. 2.3): silhouette over precomputed distances, affinity propagation."""

from .affinity import AdaptiveAffinityPropagation, AffinityPropagation, ScanStep
from .silhouette import silhouette_samples, silhouette_score

__all__ = [
    "AdaptiveAffinityPropagation",
    "AffinityPropagation",
    "ScanStep",
    "silhouette_samples",
    "silhouette_score",
]
from .result import METHODS, TendencyResult, bootstrap_interval, clustering_tendency

__all__ += ["METHODS", "TendencyResult", "bootstrap_interval", "clustering_tendency"]
