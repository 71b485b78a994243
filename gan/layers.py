"""Layers the generator bodies share: a label embedding that takes soft labels, and
class-conditional batch norm."""

from __future__ import annotations

import torch
from torch import nn


class LabelEmbedding(nn.Embedding):
    """nn.Embedding that also takes soft labels (N, K) as a weighted mix of class rows."""

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        if labels.dim() == 2 and labels.is_floating_point():
            return labels @ self.weight  # (N, K) @ (K, D) -> (N, D)
        return super().forward(labels)


class ConditionalBatchNorm(nn.Module):
    """BatchNorm without affine; per-sample gain and bias come from the class embedding."""

    def __init__(self, channels: int, embed_dim: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=False)
        self.affine = nn.Linear(embed_dim, 2 * channels)
        nn.init.zeros_(self.affine.weight)
        nn.init.zeros_(self.affine.bias)

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        gain, bias = self.affine(e).unsqueeze(-1).unsqueeze(-1).chunk(2, dim=1)
        return self.bn(x) * (1 + gain) + bias
