"""Evaluation and the recognition-vs-reconstruction diagnosis (paper secs. 2.2, 3.3, 4)."""

from .baselines import cluster_medoids, clustering, oracle_nn, retrieval
from .compare import compare_scores
from .config import DEFAULT_THRESHOLDS, EvaluationConfig
from .diagnosis import diagnose
from .metrics import per_sample_metrics, point_spacing, thresholds_for
from .references import References, excess_matrix, make_references, shape_distances
from .run import evaluate_run, load_predictions, run_diagnosis
from .summary import format_summary
from .verdict import VERDICTS, within_cluster_gain

__all__ = [
    "DEFAULT_THRESHOLDS",
    "VERDICTS",
    "EvaluationConfig",
    "References",
    "cluster_medoids",
    "clustering",
    "compare_scores",
    "diagnose",
    "evaluate_run",
    "excess_matrix",
    "format_summary",
    "load_predictions",
    "make_references",
    "oracle_nn",
    "per_sample_metrics",
    "point_spacing",
    "retrieval",
    "run_diagnosis",
    "shape_distances",
    "thresholds_for",
    "within_cluster_gain",
]
