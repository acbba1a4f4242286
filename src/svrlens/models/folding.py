"""Residual FoldingNet decoder (Yang et al. 2018, with residual MLP blocks): codeword → points."""

from __future__ import annotations

import torch
from torch import nn


class ResidualBlock1d(nn.Module):
    """Pre-activation residual MLP block over points: x + Conv(ReLU(BN(Conv(ReLU(BN(x))))))."""

    def __init__(self, width: int):
        super().__init__()
        self.net = nn.Sequential(nn.BatchNorm1d(width), nn.ReLU(), nn.Conv1d(width, width, 1), nn.BatchNorm1d(width), nn.ReLU(), nn.Conv1d(width, width, 1))

    def forward(self, x):
        return x + self.net(x)


class Fold(nn.Module):
    """Shared MLP over concat(point features, codeword): in-projection, residual blocks, 3-D output."""

    def __init__(self, in_channels: int, width: int, n_blocks: int):
        super().__init__()
        self.project = nn.Conv1d(in_channels, width, 1)
        self.blocks = nn.Sequential(*[ResidualBlock1d(width) for _ in range(n_blocks)])
        self.out = nn.Sequential(nn.BatchNorm1d(width), nn.ReLU(), nn.Conv1d(width, 3, 1))

    def forward(self, x):
        return self.out(self.blocks(self.project(x)))


class FoldingDecoder(nn.Module):
    """Codewords (B, C) → point clouds (B, P, 3) by folding a fixed 2-D grid twice.

    fold 1: shared MLP over concat(grid point, codeword) → a 3-D point;
    fold 2: shared MLP over concat(fold-1 point, codeword) → a residual offset added to it.
    Each fold is Conv1d(in, width) → ``n_blocks`` × [BN-ReLU-Conv1d(width) ×2 + identity] →
    BN-ReLU-Conv1d(width, 3). The grid is ``grid_size`` × ``grid_size`` points evenly on
    [-0.3, 0.3]² (a buffer, so it follows the module's device), P = grid_size².

    Parameters (codeword 512): width 512, 2 blocks → 2,642,438; width 128, 2 blocks → 267,398.
    """

    def __init__(self, codeword_size: int = 512, grid_size: int = 32, width: int = 512, n_blocks: int = 2):
        super().__init__()
        axis = torch.linspace(-0.3, 0.3, grid_size)
        grid = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), 0).reshape(2, -1)  # (2, P)
        self.register_buffer("grid", grid, persistent=False)
        self.fold1 = Fold(2 + codeword_size, width, n_blocks)
        self.fold2 = Fold(3 + codeword_size, width, n_blocks)

    @property
    def n_points(self) -> int:
        return self.grid.shape[1]

    def forward(self, codewords: torch.Tensor) -> torch.Tensor:
        batch = codewords.shape[0]
        code = codewords[:, :, None].expand(-1, -1, self.n_points)  # (B, C, P)
        grid = self.grid[None].expand(batch, -1, -1)  # (B, 2, P)
        points = self.fold1(torch.cat([grid, code], 1))  # (B, 3, P)
        points = points + self.fold2(torch.cat([points, code], 1))
        return points.transpose(1, 2)  # (B, P, 3)
