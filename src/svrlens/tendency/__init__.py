"""Clustering tendency (paper sec. 2.3): silhouette over precomputed distances, affinity propagation,
and the call "clustered" against a null reference of the same scale; and the successor's dispersion
score (k-medoids inertia per sample, Zhou et al. 2021)."""

from .affinity import AdaptiveAffinityPropagation, AffinityPropagation, ScanStep
from .dispersion import DEFAULT_KS, DispersionResult, KMedoids, dispersion_score, dispersion_sweep
from .null import classical_mds, null_tendency
from .result import METHODS, TendencyResult, bootstrap_interval, clustering_tendency
from .silhouette import silhouette_samples, silhouette_score

__all__ = [
    "DEFAULT_KS",
    "METHODS",
    "AdaptiveAffinityPropagation",
    "AffinityPropagation",
    "DispersionResult",
    "KMedoids",
    "ScanStep",
    "TendencyResult",
    "bootstrap_interval",
    "classical_mds",
    "clustering_tendency",
    "dispersion_score",
    "dispersion_sweep",
    "null_tendency",
    "silhouette_samples",
    "silhouette_score",
]
