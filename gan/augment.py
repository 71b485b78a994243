"""Differentiable augmentation for the discriminator's inputs (DiffAugment, Zhao et al. 2020).

The same kinds of random transforms are applied to real and generated images every time D sees
them, in both the D and the G step; they are differentiable, so G learns through them and never
learns to produce the augmentation itself. Policies: "color", "translation", "cutout", comma-separated.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

POLICIES = ("color", "translation", "cutout")


def check_policy(policy: str) -> tuple[str, ...]:
    names = tuple(p.strip() for p in policy.split(",") if p.strip())
    unknown = [p for p in names if p not in POLICIES]
    if unknown:
        raise ValueError(f"unknown augmentation {unknown}; choose from {', '.join(POLICIES)}")
    return names


def color(x: torch.Tensor) -> torch.Tensor:
    """Random brightness, saturation and contrast per image; x (N, C, H, W) in about [-1, 1]."""
    n = len(x)
    x = x + (torch.rand(n, 1, 1, 1, device=x.device, dtype=x.dtype) - 0.5)
    if x.shape[1] > 1:
        mean = x.mean(dim=1, keepdim=True)
        x = (x - mean) * (torch.rand(n, 1, 1, 1, device=x.device, dtype=x.dtype) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (torch.rand(n, 1, 1, 1, device=x.device, dtype=x.dtype) + 0.5) + mean


def translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to `ratio` of its side, filling with zeros (mid-grey)."""
    n, _, h, w = x.shape
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sy, sy + 1, (n, 1, 1), device=x.device)
    dx = torch.randint(-sx, sx + 1, (n, 1, 1), device=x.device)
    gy, gx = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    y_idx = (gy.unsqueeze(0) + dy + 1).clamp(0, h + 1)  # (N, H, W) in the padded image
    x_idx = (gx.unsqueeze(0) + dx + 1).clamp(0, w + 1)
    padded = F.pad(x, (1, 1, 1, 1))
    flat = padded.permute(0, 2, 3, 1).reshape(n, (h + 2) * (w + 2), -1)  # (N, (H+2)(W+2), C)
    idx = (y_idx * (w + 2) + x_idx).reshape(n, -1, 1).expand(-1, -1, x.shape[1])
    return flat.gather(1, idx).reshape(n, h, w, -1).permute(0, 3, 1, 2)  # NHWC memory: channels_last


def cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero a random square of `ratio` times the side in each image."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device) - ch // 2  # may start outside
    left = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device) - cw // 2
    gy, gx = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    inside = (gy >= top) & (gy < top + ch) & (gx >= left) & (gx < left + cw)  # (N, H, W)
    return x * (~inside).unsqueeze(1).to(x.dtype)


TRANSFORMS = {"color": color, "translation": translation, "cutout": cutout}


def diff_augment(x: torch.Tensor, policy: tuple[str, ...]) -> torch.Tensor:
    for name in policy:
        x = TRANSFORMS[name](x)
    return x
