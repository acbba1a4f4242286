"""The paper's sweeps end to end: typed specs, content-addressed runs, serial, process and Ray executors."""

from .executors import ProcessExecutor, RayExecutor, SerialExecutor, local_executor
from .real import RealData, RealStudy
from .runs import execute_run, prepare_data
from .spec import (
    PRESETS,
    EvaluationConfig,
    ExperimentSpec,
    FamilyStudy,
    LabelStudy,
    RunSpec,
    load_spec,
    preset_spec,
)
from .sweep import RESULTS, check_paper_result, reproduce

__all__ = [
    "PRESETS",
    "RESULTS",
    "EvaluationConfig",
    "ExperimentSpec",
    "FamilyStudy",
    "LabelStudy",
    "ProcessExecutor",
    "RealData",
    "RealStudy",
    "RayExecutor",
    "RunSpec",
    "SerialExecutor",
    "check_paper_result",
    "execute_run",
    "load_spec",
    "local_executor",
    "prepare_data",
    "preset_spec",
    "reproduce",
]
