"""Adversarial losses on raw discriminator scores. Each returns a scalar to minimise."""

from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("lsgan", "bce", "hinge")


def d_loss(kind: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    if kind == "lsgan":  # the assignment's MSE against 1 (valid) and 0 (fake), averaged
        return 0.5 * (F.mse_loss(real, torch.ones_like(real)) + F.mse_loss(fake, torch.zeros_like(fake)))
    if kind == "bce":
        return F.softplus(-real).mean() + F.softplus(fake).mean()
    if kind == "hinge":
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    raise ValueError(f"unknown loss {kind!r}; choose one of {LOSSES}")


def g_loss(kind: str, fake: torch.Tensor) -> torch.Tensor:
    if kind == "lsgan":
        return F.mse_loss(fake, torch.ones_like(fake))
    if kind == "bce":  # non-saturating
        return F.softplus(-fake).mean()
    if kind == "hinge":
        return -fake.mean()
    raise ValueError(f"unknown loss {kind!r}; choose one of {LOSSES}")


def mode_seeking(fake_a: torch.Tensor, fake_b: torch.Tensor, z_a: torch.Tensor, z_b: torch.Tensor,
                 eps: float = 1e-5) -> torch.Tensor:
    """Mode-seeking term (Mao et al. 2019): 1 / (image distance / noise distance), same labels.

    Minimising it pushes two noises of the same class to different images, against the
    within-class mode dropping that conditional GANs suffer from.
    """
    ratio = (fake_a - fake_b).abs().flatten(1).mean(1) / (z_a - z_b).abs().mean(1)
    return 1.0 / (ratio.mean() + eps)


def class_pull(ce: torch.Tensor, margin: float = 0.0) -> torch.Tensor:
    """G's class-head term from per-image cross-entropies (N,): images the head already places
    with -log p <= margin add nothing, so only unclear ones are pulled towards their class."""
    return (ce - margin).clamp(min=0).mean()


def covering(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Coverage term (IMLE, Li & Malik 2019; Inclusive GAN, Yu et al. 2020): the mean squared
    pixel distance between each real image and the image of the noise, of several tried, that
    came nearest to it (`GANModule._covering_noise`), so every real image pulls its nearest
    sample towards it, meant to pull in the modes the adversarial loss leaves out (on MNIST, with
    8 candidates, it made digits more typical instead: README, tried table)."""
    return (fake.float() - real.float()).pow(2).mean()  # same-sized images: the mean of per-image means


def r1_penalty(scores: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): the squared gradient norm of D's scores on real images, per
    image, averaged; `real` must require grad and `scores` come from it. Keeps D flat around the
    data, so G is not pushed off the real images it already draws."""
    grad, = torch.autograd.grad(scores.float().sum(), real, create_graph=True)
    return grad.float().pow(2).flatten(1).sum(1).mean()
