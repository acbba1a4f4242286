"""Models (paper sec. 3.3): ResNet-18 encoder and residual FoldingNet decoder."""

import lazy_loader as _lazy

# Names are imported on first use (PEP 562, via lazy_loader): importing one light submodule, such
# as a configuration the command line reads, then does not import torch (~1.6 s of every start).
__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submod_attrs={
        "folding": ["FoldingDecoder", "ResidualBlock1d"],
        "model": ["ReconstructionNet", "build_model"],
        "resnet": ["ResNet18Encoder"],
        "config": ["ModelConfig"],
    },
)
