"""Training configuration with the paper's defaults, and the presets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from svrlens.models import ModelConfig

LABEL_MODES = ("none", "weak", "full")


@dataclass
class TrainConfig:
    """Everything a training run depends on (saved as ``config.json`` and in every checkpoint).

    Paper sec. 3.3 / 4.2: Adam, lr 0.003, weight decay 1e-6, batch 32, lr ×0.1 step decay,
    1500 epochs for 1.1.n, 3000 for 1.2.n, 100 on ShapeNet, best model on the validation split.
    """

    epochs: int = 1500
    batch_size: int = 32
    lr: float = 0.003
    weight_decay: float = 1e-6
    lr_milestones: tuple = (0.6, 0.9)  # fractions of ``epochs`` where lr is multiplied by lr_decay
    lr_decay: float = 0.1
    val_every: int = 10  # epochs between validations (and the last epoch)
    fscore_threshold: float = 0.05  # absolute, in the data's units, for the validation F-score
    image_size: int | None = None  # resize images to this; None keeps the dataset's size
    labels: str = "none"  # none | weak (cross-entropy in the first weak_epochs only) | full
    weak_epochs: int = 5
    label_weight: float = 1.0
    seed: int = 0
    device: str = "auto"  # auto: CUDA when present
    model: ModelConfig = field(default_factory=ModelConfig)

    def validate(self) -> "TrainConfig":
        if self.labels not in LABEL_MODES:
            raise ValueError(f"labels: expected one of {LABEL_MODES}, found {self.labels!r}")
        if self.epochs < 1 or self.batch_size < 1 or self.val_every < 1 or not self.lr > 0:
            raise ValueError(
                f"expected epochs, batch_size, val_every ≥ 1 and lr > 0, "
                f"found {self.epochs}, {self.batch_size}, {self.val_every}, {self.lr}"
            )
        if self.image_size is not None and not 32 <= self.image_size <= 512:
            raise ValueError(f"image_size: expected 32–512 px, found {self.image_size}")
        if any(not 0 <= m <= 1 for m in self.lr_milestones):
            raise ValueError(
                f"lr_milestones: expected fractions of the epochs in [0, 1], found {self.lr_milestones}"
            )
        return self

    def to_dict(self) -> dict:
        out = asdict(self)
        out["lr_milestones"] = list(self.lr_milestones)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["model"] = ModelConfig(**values.get("model", {}))
        values["lr_milestones"] = tuple(values.get("lr_milestones", (0.6, 0.9)))
        return cls(**values)


# "laptop": the 2-core CPU. 64 px images and a 128-wide decoder trained on a 16 x 16 grid and
# sampled on 32 x 32 (1024 points) to predict (the decoder's 1024 × 512 MLPs cost 10× more than
# the encoder at 64 px, measured), 600 epochs (the paper: 1500-3000), validation every 20 — the
# laptop sweep's 1.2.n setting. "paper": the paper's settings, for a GPU.
PRESETS = {
    "laptop": dict(
        epochs=600,
        image_size=64,
        val_every=20,
        model=ModelConfig(grid_size=16, decoder_width=128, eval_grid_size=32),
    ),
    "paper": dict(epochs=1500, image_size=128, val_every=10, model=ModelConfig(decoder_width=512)),
}


def preset(name: str, **overrides) -> TrainConfig:
    """A named preset with ``overrides`` applied (``None`` values are ignored)."""
    if name not in PRESETS:
        raise ValueError(f"preset: expected one of {sorted(PRESETS)}, found {name!r}")
    values = dict(PRESETS[name])
    values.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig(**values).validate()
