"""ResNet-18 image encoder (He et al. 2016) with torchvision's parameter names.

torchvision cannot be installed beside our torch, so the network is written here; the names
(``conv1``, ``bn1``, ``layer1.0.conv1``, ``layer2.0.downsample.0``, …) match
``torchvision.models.resnet18`` so that a torchvision / ImageNet state dict loads with
:meth:`ResNet18Encoder.load_state_dict` (its ``fc.*`` classifier entries are ignored).
"""

from __future__ import annotations

import torch
from torch import nn


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with batch norm and an identity (or 1×1/stride conv+BN) shortcut."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18Encoder(nn.Module):
    """ResNet-18 backbone: images (B, 3, H, W) → 512-d codewords (B, 512).

    7×7/2 stem conv + BN + ReLU + 3×3/2 max-pool, BasicBlock stages [2, 2, 2, 2] with
    64/128/256/512 channels and strides 1/2/2/2, adaptive average pooling (so any input from
    ~32 px works; 64–224 px tested), Kaiming fan-out initialisation. 11,176,512 parameters.
    """

    codeword_size = 512

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        stages, inplanes = [], 64
        for planes, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            stages.append(nn.Sequential(BasicBlock(inplanes, planes, stride), BasicBlock(planes, planes, 1)))
            inplanes = planes
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(images))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)  # (B, 512)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Load our own or a torchvision ``resnet18`` state dict (its ``fc.*`` keys are dropped)."""
        state_dict = {k: v for k, v in state_dict.items() if not k.startswith("fc.")}
        return super().load_state_dict(state_dict, strict=strict, assign=assign)
