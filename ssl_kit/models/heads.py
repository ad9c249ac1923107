"""Projection heads: MoCo v1's linear head and the MLP head of MoCo v2 / SimCLR (names as in MoCo's `fc.0`,
`fc.2`, so official checkpoints map onto them)."""

from __future__ import annotations

from torch import nn


class LinearHead(nn.Module):
    def __init__(self, in_dim: int, out_dim: int = 128):
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim)

    def forward(self, x):
        return self.fc(x)


class MLPHead(nn.Module):
    def __init__(self, in_dim: int, out_dim: int = 128, hidden: int | None = None):
        super().__init__()
        hidden = hidden or in_dim
        self.fc = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, out_dim))

    def forward(self, x):
        return self.fc(x)
