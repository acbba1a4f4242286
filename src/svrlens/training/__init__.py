"""Training (paper sec. 3.3): Chamfer loss, Adam, step decay, best model on validation, resumable."""

from .checkpoint import load_checkpoint, save_checkpoint
from .config import LABEL_MODES, PRESETS, TrainConfig, preset
from .loop import (
    RunResult,
    evaluate,
    load_model,
    lr_at,
    predict,
    predict_images,
    save_predictions,
    to_input,
    train,
)

__all__ = [
    "LABEL_MODES",
    "PRESETS",
    "RunResult",
    "TrainConfig",
    "evaluate",
    "load_checkpoint",
    "load_model",
    "lr_at",
    "predict",
    "predict_images",
    "preset",
    "save_checkpoint",
    "save_predictions",
    "to_input",
    "train",
]
