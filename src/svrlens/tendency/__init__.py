"""Clustering tendency (paper sec. 2.3): silhouette over precomputed distances, affinity propagation,
and the call "clustered" against a null reference of the same scale."""

from .affinity import AdaptiveAffinityPropagation, AffinityPropagation, ScanStep
from .null import classical_mds, null_tendency
from .result import METHODS, TendencyResult, bootstrap_interval, clustering_tendency
from .silhouette import silhouette_samples, silhouette_score

__all__ = [
    "METHODS",
    "AdaptiveAffinityPropagation",
    "AffinityPropagation",
    "ScanStep",
    "TendencyResult",
    "bootstrap_interval",
    "classical_mds",
    "clustering_tendency",
    "null_tendency",
    "silhouette_samples",
    "silhouette_score",
]
