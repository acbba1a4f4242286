"""Training configuration with the paper's defaults, and the presets."""

from __future__ import annotations

import re
from dataclasses import asdict, field
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, Field

from svrlens.models import ModelConfig
from svrlens.options import Float, Int, Seed, Str, option, parse, validated

LABEL_MODES = ("none", "weak", "full")
_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


def _device_name(name: str) -> str:
    if not _DEVICE.fullmatch(name):
        raise ValueError("auto, cpu, mps, cuda or cuda:N")
    return name


@validated
class TrainConfig:
    """Everything a training run depends on (saved as ``config.json`` and in every checkpoint).

    Paper sec. 3.3 / 4.2: Adam, lr 0.003, weight decay 1e-6, batch 32, lr ×0.1 step decay,
    1500 epochs for 1.1.n, 3000 for 1.2.n, 100 on ShapeNet, best model on the validation split.
    Every field is checked (type and range) when the object is built or a field is set: a bad
    value raises a one-line ``ValueError`` naming the field, before any data are read.
    """

    epochs: Annotated[Int, option("epochs to train", ge=1, le=10**6)] = 1500
    batch_size: Annotated[
        # batch normalisation of the per-cloud decoder term needs at least two clouds per batch
        Int,
        option("training samples per batch", ge=2, le=2**20),
    ] = 32
    lr: Annotated[Float, option("Adam learning rate", gt=0, le=10)] = 0.003
    weight_decay: Annotated[Float, option("Adam weight decay", ge=0, le=1)] = 1e-6
    # fractions of ``epochs`` where lr is multiplied by lr_decay
    lr_milestones: tuple[Annotated[Float, option("milestone", ge=0, le=1)], ...] = (0.6, 0.9)
    lr_decay: Annotated[Float, option("learning-rate factor at each milestone", gt=0, le=1)] = 0.1
    val_every: Annotated[Int, option("epochs between validations", ge=1, le=10**6)] = 10
    # absolute, in the data's units, for the validation F-score
    fscore_threshold: Annotated[Float, option("validation F-score threshold", gt=0)] = 0.05
    image_size: Annotated[
        Optional[Annotated[Int, Field(ge=32, le=512)]],
        option("side images are resized to before the encoder (none: the dataset's)", unit="px"),
    ] = None
    labels: Annotated[
        Literal["none", "weak", "full"], option("class-label supervision: none, weak (first epochs) or full")
    ] = "none"
    weak_epochs: Annotated[Int, option("epochs with labels in 'weak' mode", ge=0, le=10**6)] = 5
    label_weight: Annotated[Float, option("weight of the cross-entropy term", ge=0, le=10**6)] = 1.0
    seed: Annotated[Seed, option("seed of the weights and the batch order")] = 0
    device: Annotated[
        Str, AfterValidator(_device_name), option("auto (CUDA when present), cpu, cuda, cuda:1 …")
    ] = "auto"
    model: ModelConfig = field(default_factory=ModelConfig)

    def validate(self) -> "TrainConfig":
        """Return self: every field was checked when it was set (kept for callers that chain it)."""
        return self

    def to_dict(self) -> dict:
        out = asdict(self)
        out["lr_milestones"] = list(self.lr_milestones)
        return out

    @classmethod
    def from_dict(cls, data: dict, where: str = "") -> "TrainConfig":
        """Parse and validate (a ``config.json``, a checkpoint's ``config``, a spec's ``train``);
        unknown keys are refused. Raises ValueError naming ``where`` and the field."""
        return parse(cls, data, where)


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
    return TrainConfig(**values)
