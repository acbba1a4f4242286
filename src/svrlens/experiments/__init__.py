"""The paper's sweeps end to end: typed specs, content-addressed runs, serial, process and Ray executors."""

import lazy_loader as _lazy

# Names are imported on first use (PEP 562, via lazy_loader): importing one light submodule, such
# as a configuration the command line reads, then does not import torch (~1.6 s of every start).
__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submod_attrs={
        "executors": ["ProcessExecutor", "RayExecutor", "SerialExecutor", "local_executor"],
        "real": ["RealData", "RealStudy"],
        "runs": ["execute_run", "prepare_data"],
        "spec": [
            "EvaluationConfig",
            "ExperimentSpec",
            "FamilyStudy",
            "LabelStudy",
            "RunSpec",
            "load_spec",
        ],
        "presets": ["PRESETS", "preset_spec"],
        "sweep": ["RESULTS", "check_paper_result", "reproduce"],
    },
)
