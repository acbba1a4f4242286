"""Models (paper sec. 3.3): ResNet-18 encoder and residual FoldingNet decoder."""

from .folding import FoldingDecoder, ResidualBlock1d
from .model import ModelConfig, ReconstructionNet, build_model
from .resnet import ResNet18Encoder

__all__ = [
    "FoldingDecoder",
    "ModelConfig",
    "ReconstructionNet",
    "ResNet18Encoder",
    "ResidualBlock1d",
    "build_model",
]
