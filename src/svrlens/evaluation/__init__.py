"""Evaluation and the recognition-vs-reconstruction diagnosis (paper secs. 2.2, 3.3, 4)."""

import lazy_loader as _lazy

# Names are imported on first use (PEP 562, via lazy_loader): importing one light submodule, such
# as a configuration the command line reads, then does not import torch (~1.6 s of every start).
__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submod_attrs={
        "baselines": ["cluster_medoids", "clustering", "oracle_nn", "retrieval"],
        "compare": ["compare_scores"],
        "config": ["DEFAULT_THRESHOLDS", "EvaluationConfig"],
        "diagnosis": ["diagnose"],
        "metrics": ["per_sample_metrics", "point_spacing", "thresholds_for"],
        "references": ["References", "excess_matrix", "make_references", "shape_distances"],
        "run": ["evaluate_run", "load_predictions", "run_diagnosis"],
        "summary": ["format_summary"],
        "verdict": ["VERDICTS", "within_cluster_gain"],
    },
)
