"""Training (paper sec. 3.3): Chamfer loss, Adam, step decay, best model on validation, resumable."""

from .checkpoint import load_checkpoint, save_checkpoint
from .config import LABEL_MODES, PRESETS, TrainConfig, preset
from .loop import RunResult, evaluate, lr_at, train
from .predict import images_from_path, load_model, predict, predict_images, save_predictions, to_input

__all__ = [
    "LABEL_MODES",
    "PRESETS",
    "RunResult",
    "TrainConfig",
    "evaluate",
    "images_from_path",
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
