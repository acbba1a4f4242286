"""Training (paper sec. 3.3): Chamfer loss, Adam, step decay, best model on validation, resumable."""

import lazy_loader as _lazy

# Names are imported on first use (PEP 562, via lazy_loader): importing one light submodule, such
# as a configuration the command line reads, then does not import torch (~1.6 s of every start).
__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submod_attrs={
        "checkpoint": ["load_checkpoint", "save_checkpoint"],
        "config": ["LABEL_MODES", "PRESETS", "TrainConfig", "preset"],
        "loop": ["RunResult", "evaluate", "lr_at", "train"],
        "predict": [
            "images_from_path",
            "load_model",
            "predict",
            "predict_images",
            "save_predictions",
            "to_input",
        ],
    },
)
