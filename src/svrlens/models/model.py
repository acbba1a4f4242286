"""The paper's single-view reconstruction network (sec. 3.3): ResNet-18 encoder + residual FoldingNet."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .folding import FoldingDecoder
from .resnet import ResNet18Encoder


@dataclass
class ModelConfig:
    """Architecture of :class:`ReconstructionNet`.

    grid_size : points = grid_size² (32 → 1024, the paper's count)
    decoder_width : channels of the folding MLPs (512 as FoldingNet; smaller for laptop runs)
    decoder_blocks : residual blocks per fold
    n_classes : size of the optional linear class head on the codeword (0: none)
    eval_grid_size : grid folded when predicting (validation, test); None: ``grid_size``.
        A model trained on a coarse grid (cheaper: the decoder's cost is linear in points) is
        then still compared with 1024-point ground truth at 1024 points.
    """

    grid_size: int = 32
    decoder_width: int = 512
    decoder_blocks: int = 2
    n_classes: int = 0
    eval_grid_size: int | None = None


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
    config = config or ModelConfig()
    if (
        config.grid_size < 2
        or config.decoder_width < 1
        or config.decoder_blocks < 0
        or config.n_classes < 0
        or (config.eval_grid_size is not None and config.eval_grid_size < 2)
    ):
        raise ValueError(
            f"model config: expected grid_size ≥ 2, width ≥ 1, blocks ≥ 0, classes ≥ 0, found {config}"
        )
    return ReconstructionNet(config)
