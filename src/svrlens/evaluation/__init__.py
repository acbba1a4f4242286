"""Evaluation and the recognition-vs-reconstruction diagnosis (paper secs. 2.2, 3.3, 4)."""

from .baselines import cluster_medoids, clustering, oracle_nn, retrieval
from .compare import compare_scores
from .diagnosis import CASE_THRESHOLD, MEMORISATION_THRESHOLD, diagnose, format_summary
from .metrics import per_sample_metrics, thresholds_for
from .run import evaluate_run, load_predictions, run_diagnosis

__all__ = [
    "CASE_THRESHOLD",
    "MEMORISATION_THRESHOLD",
    "cluster_medoids",
    "clustering",
    "compare_scores",
    "diagnose",
    "evaluate_run",
    "format_summary",
    "load_predictions",
    "oracle_nn",
    "per_sample_metrics",
    "retrieval",
    "run_diagnosis",
    "thresholds_for",
]
