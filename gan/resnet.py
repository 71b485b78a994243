"""Residual generator and projection discriminator whose depth follows the image side
(in the style of Miyato & Koyama 2018 / BigGAN, narrowed for CPUs).

The side is halved while it is even and above 7: 28 -> 14 -> 7 (2 stages), 32 -> ... -> 4 (3),
64 -> 4 (4). G starts at that base side with `width * 2**stages` channels (at most 8 * width)
and halves them at every 2x upsampling block; D mirrors it, doubling channels (up to 8 * width)
at every 2x downsampling.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from gan.layers import ConditionalBatchNorm, LabelEmbedding

# Class embedding feeding every conditional batch norm of G. Measured on MNIST (bare loop, 1,000
# steps): with 128 dimensions the CBN gains move 4x faster under Adam and G drops z within 250
# steps (within-class pixel std 0.03, one image per class); with 32 it stays diverse (0.13,
# like the conv model's 0.15). Spectral norm in G or z fed into every CBN did not help (0.02-0.03).
EMBED_DIM = 32


def stages(side: int) -> tuple[int, int]:
    """(base side, number of 2x stages) for an image side: halve while even and above 7."""
    n = 0
    while side % 2 == 0 and side > 7:
        side, n = side // 2, n + 1
    return side, n


def _xavier(module: nn.Module, gain: float = 1.0) -> nn.Module:
    nn.init.xavier_uniform_(module.weight, gain)
    nn.init.zeros_(module.bias)
    return module


class GBlock(nn.Module):
    """(N, C_in, H, W) -> (N, C_out, 2H, 2W): CBN, ReLU, up, conv3, CBN, ReLU, conv3 + up, conv1 skip."""

    def __init__(self, c_in: int, c_out: int, embed_dim: int):
        super().__init__()
        self.norm1, self.norm2 = ConditionalBatchNorm(c_in, embed_dim), ConditionalBatchNorm(c_out, embed_dim)
        self.conv1 = _xavier(nn.Conv2d(c_in, c_out, 3, padding=1), 2 ** 0.5)
        self.conv2 = _xavier(nn.Conv2d(c_out, c_out, 3, padding=1), 2 ** 0.5)
        self.skip = _xavier(nn.Conv2d(c_in, c_out, 1))

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        h = F.interpolate(F.relu(self.norm1(x, e)), scale_factor=2.0)
        h = self.conv2(F.relu(self.norm2(self.conv1(h), e)))
        return h + self.skip(F.interpolate(x, scale_factor=2.0))


class ResNetGeneratorBody(nn.Module):
    """z, label -> fc to (W * 2^n, b, b) -> n GBlocks -> BN, ReLU, conv3, tanh -> (C, H, W)."""

    def __init__(self, latent_dim: int, num_classes: int, img_shape: tuple[int, int, int], width: int = 32):
        super().__init__()
        self.base, n = stages(img_shape[1])
        channels = [width * 2 ** min(n - i, 3) for i in range(n + 1)]  # 32 px: 8W, 4W, 2W, W
        self.label_emb = LabelEmbedding(num_classes, EMBED_DIM)
        self.fc = _xavier(nn.Linear(latent_dim + EMBED_DIM, channels[0] * self.base ** 2))
        self.blocks = nn.ModuleList(GBlock(a, b, EMBED_DIM) for a, b in zip(channels, channels[1:]))
        self.out = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(),
                                 _xavier(nn.Conv2d(width, img_shape[0], 3, padding=1)), nn.Tanh())

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        e = self.label_emb(labels)  # (N, E)
        x = self.fc(torch.cat([z, e], dim=1)).view(len(z), -1, self.base, self.base)
        for block in self.blocks:
            x = block(x, e)
        return self.out(x)  # (N, C, H, W) in [-1, 1]


class DBlock(nn.Module):
    """(N, C_in, H, W) -> (N, C_out, H/2, W/2) (or same size): [ReLU], conv3, ReLU, conv3, [pool] + skip.

    The first block sees the image itself: no ReLU before it, and its skip pools before the 1x1
    conv (the "optimized block" of SNGAN)."""

    def __init__(self, c_in: int, c_out: int, down: bool, first: bool = False):
        super().__init__()
        self.down, self.first = down, first
        self.conv1 = spectral_norm(_xavier(nn.Conv2d(c_in, c_out, 3, padding=1), 2 ** 0.5))
        self.conv2 = spectral_norm(_xavier(nn.Conv2d(c_out, c_out, 3, padding=1), 2 ** 0.5))
        self.skip = spectral_norm(_xavier(nn.Conv2d(c_in, c_out, 1))) if c_in != c_out or down else None

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, 2) if self.down else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv2(F.relu(self.conv1(x if self.first else F.relu(x))))
        if self.skip is None:
            return self._pool(h) + x
        skip = self.skip(self._pool(x)) if self.first else self._pool(self.skip(x))
        return self._pool(h) + skip


class ResNetProjectionDiscriminator(nn.Module):
    """n down blocks (W, 2W, ... channels), one more at the base side, ReLU, global sum pool;
    score = w.h + <embed(y), h> (projection, Miyato & Koyama 2018). Spectral norm throughout.
    With `classifier`, a linear class head on the same pooled features (`model.ac_weight`).
    With `pack` > 1 (PacGAN, Lin et al. 2018), each score is of `pack` consecutive images
    stacked along channels, projected on the sum of their labels' embeddings, so D can see
    too little variety among them; the class head gives each member's logits."""

    def __init__(self, num_classes: int, img_shape: tuple[int, int, int], width: int = 32,
                 classifier: bool = False, pack: int = 1):
        super().__init__()
        _, n = stages(img_shape[1])
        self.pack = pack
        channels = [img_shape[0] * pack] + [width * 2 ** min(i, 3) for i in range(n)]
        self.blocks = nn.Sequential(*(DBlock(a, b, down=True, first=i == 0)
                                      for i, (a, b) in enumerate(zip(channels, channels[1:]))),
                                    DBlock(channels[-1], channels[-1], down=False))
        self.linear = spectral_norm(_xavier(nn.Linear(channels[-1], 1)))
        self.embed = spectral_norm(nn.Embedding(num_classes, channels[-1]))
        nn.init.xavier_uniform_(self.embed.parametrizations.weight.original)
        # registered last, so its parameters come after those of a checkpoint saved without it
        self.classifier = (spectral_norm(_xavier(nn.Linear(channels[-1], num_classes * pack)))
                           if classifier else None)

    def features(self, img: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W), N a multiple of `pack` -> (N / pack, C') by global sum pooling."""
        if self.pack > 1:
            n, c, h, w = img.shape
            img = img.reshape(n // self.pack, self.pack * c, h, w)
        return F.relu(self.blocks(img)).sum(dim=(2, 3))

    def score(self, h: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """(N / pack,) scores for pooled features and the N images' labels."""
        e = self.embed(labels).view(len(h), self.pack, -1).sum(dim=1)
        return self.linear(h).squeeze(1) + (e * h).sum(dim=1)

    def class_logits(self, h: torch.Tensor) -> torch.Tensor:
        """(N, num_classes): the class head's logits for each of the N images."""
        return self.classifier(h).view(len(h) * self.pack, -1)

    def forward(self, img: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.score(self.features(img), labels)
