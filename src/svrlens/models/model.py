"""The paper's single-view reconstruction network (sec. 3.3): ResNet-18 encoder + residual FoldingNet."""

from __future__ import annotations

from typing import Annotated, Optional

import torch
from pydantic import Field
from torch import nn

from svrlens.options import Int, option, validated

from .folding import FoldingDecoder
from .resnet import ResNet18Encoder


@validated
class ModelConfig:
    """Architecture of :class:`ReconstructionNet` (validated when built: a bad value is a one-line
    ``ValueError`` naming the field).

    grid_size : points = grid_size² (32 → 1024, the paper's count)
    decoder_width : channels of the folding MLPs (512 as FoldingNet; smaller for laptop runs)
    decoder_blocks : residual blocks per fold
    n_classes : size of the optional linear class head on the codeword (0: none)
    eval_grid_size : grid folded when predicting (validation, test); None: ``grid_size``.
        A model trained on a coarse grid (cheaper: the decoder's cost is linear in points) is
        then still compared with 1024-point ground truth at 1024 points.
    """

    grid_size: Annotated[Int, option("side of the folding grid (points = side²)", ge=2, le=256)] = 32
    decoder_width: Annotated[Int, option("channels of the folding MLPs", ge=1, le=8192)] = 512
    decoder_blocks: Annotated[Int, option("residual blocks per fold", ge=0, le=64)] = 2
    n_classes: Annotated[Int, option("classes of the linear class head (0: none)", ge=0, le=10**6)] = 0
    eval_grid_size: Annotated[
        Optional[Annotated[Int, Field(ge=2, le=256)]],
        option("side of the grid folded when predicting (none: grid_size)"),
    ] = None


class ReconstructionNet(nn.Module):
    """Images (B, 3, H, W) → (points (B, P, 3), codewords (B, 512)); ``classify`` for the head."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.encoder = ResNet18Encoder()
        self.decoder = FoldingDecoder(
            ResNet18Encoder.codeword_size, config.grid_size, config.decoder_width, config.decoder_blocks
        )
        self.classifier = (
            nn.Linear(ResNet18Encoder.codeword_size, config.n_classes) if config.n_classes else None
        )

    def forward(self, images: torch.Tensor, grid_size: int | None = None):
        """images (B, 3, H, W) → points (B, grid_size², 3) (default: the training grid),
        codewords (B, 512)."""
        codewords = self.encoder(images)
        return self.decoder(codewords, grid_size), codewords

    def classify(self, codewords: torch.Tensor) -> torch.Tensor:
        if self.classifier is None:
            raise ValueError("model: built without a class head (ModelConfig.n_classes = 0)")
        return self.classifier(codewords)


def build_model(config: ModelConfig | None = None) -> ReconstructionNet:
    """Build the network described by ``config`` (defaults: the paper's)."""
    return ReconstructionNet(config or ModelConfig())
