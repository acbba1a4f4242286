"""The paper's single-view reconstruction network (sec. 3.3): ResNet-18 encoder + residual FoldingNet."""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .folding import FoldingDecoder
from .resnet import ResNet18Encoder


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
        codewords (B, 512), both float32 (under ``config.precision = "bfloat16"`` the encoder and
        the folds' hidden layers run in bfloat16 autocast, the folds' output layers in float32:
        the codewords are bfloat16 values widened, the points float32 values)."""
        with torch.autocast(images.device.type, torch.bfloat16, enabled=self.config.precision == "bfloat16"):
            codewords = self.encoder(images)
            points = self.decoder(codewords, grid_size)
        return points.float(), codewords.float()

    def classify(self, codewords: torch.Tensor) -> torch.Tensor:
        if self.classifier is None:
            raise ValueError("model: built without a class head (ModelConfig.n_classes = 0)")
        return self.classifier(codewords)


def build_model(config: ModelConfig | None = None) -> ReconstructionNet:
    """Build the network described by ``config`` (defaults: the paper's)."""
    return ReconstructionNet(config or ModelConfig())
