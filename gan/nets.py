"""Conditional generators and discriminators, plain PyTorch (no Lightning).

`Generator` is the one exported network: a `PyTorchModelHubMixin`, so `save_pretrained`
writes `config.json` + `model.safetensors` and `Generator.from_pretrained` rebuilds it.
`arch` picks the body: "mlp" (the assignment's baseline), "conv" (DCGAN-style with
conditional batch norm, 28 px) or "resnet" (residual blocks whose depth follows the image side,
gan/resnet.py). Labels may be class indices (N,) or soft class weights (N, K),
so two classes can be blended ("morph a 3 into an 8").
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from gan.layers import ConditionalBatchNorm, LabelEmbedding
from gan.resnet import ResNetGeneratorBody, ResNetProjectionDiscriminator


# ---------------------------------------------------------------- MLP baseline


def _mlp_block(n_in: int, n_out: int, normalize: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Linear(n_in, n_out)]
    if normalize:
        # eps=0.8 as in the assignment's code (positional `momentum`-looking arg is eps);
        # kept on purpose so the baseline stays the baseline.
        layers.append(nn.BatchNorm1d(n_out, 0.8))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return layers


class MLPGeneratorBody(nn.Module):
    def __init__(self, latent_dim: int, num_classes: int, img_shape: tuple[int, int, int]):
        super().__init__()
        self.img_shape = img_shape
        self.label_emb = LabelEmbedding(num_classes, num_classes)
        self.model = nn.Sequential(
            *_mlp_block(latent_dim + num_classes, 128, normalize=False),
            *_mlp_block(128, 256), *_mlp_block(256, 512), *_mlp_block(512, 1024),
            nn.Linear(1024, math.prod(img_shape)), nn.Tanh())

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        x = torch.cat([self.label_emb(labels), z], dim=1)  # (N, K + Z)
        return self.model(x).view(len(z), *self.img_shape)


class MLPDiscriminator(nn.Module):
    def __init__(self, num_classes: int = 10, img_shape=(1, 28, 28), spectral: bool = False):
        super().__init__()
        self.label_emb = nn.Embedding(num_classes, num_classes)
        sn = spectral_norm if spectral else (lambda m: m)
        self.model = nn.Sequential(
            sn(nn.Linear(num_classes + math.prod(img_shape), 512)), nn.LeakyReLU(0.2, inplace=True),
            sn(nn.Linear(512, 512)), nn.Dropout(0.4), nn.LeakyReLU(0.2, inplace=True),
            sn(nn.Linear(512, 512)), nn.Dropout(0.4), nn.LeakyReLU(0.2, inplace=True),
            sn(nn.Linear(512, 1)))

    def forward(self, img: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        x = torch.cat([img.flatten(1), self.label_emb(labels)], dim=1)
        return self.model(x).squeeze(1)  # (N,) raw scores


# ---------------------------------------------------------------- conv model


class UpBlock(nn.Module):
    """(N, C_in, H, W) -> (N, C_out, 2H, 2W): CBN, ReLU, 4x4 stride-2 transposed conv."""

    def __init__(self, c_in: int, c_out: int, embed_dim: int):
        super().__init__()
        self.norm = ConditionalBatchNorm(c_in, embed_dim)
        self.conv = nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1)

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        return self.conv(F.relu(self.norm(x, e)))


class ConvGeneratorBody(nn.Module):
    """z, label -> (2W, H/4, W/4) -> (W, H/2, W/2) -> (W/2, H, W) -> image; every norm is class-conditional."""

    def __init__(self, latent_dim: int, num_classes: int, img_shape: tuple[int, int, int],
                 width: int = 32, embed_dim: int = 32):
        super().__init__()
        self.base = img_shape[1] // 4
        self.c0 = 2 * width
        self.label_emb = LabelEmbedding(num_classes, embed_dim)
        self.fc = nn.Linear(latent_dim + embed_dim, self.c0 * self.base * self.base)
        self.up1 = UpBlock(self.c0, width, embed_dim)
        self.up2 = UpBlock(width, width // 2, embed_dim)
        self.out_norm = ConditionalBatchNorm(width // 2, embed_dim)
        self.out = nn.Conv2d(width // 2, img_shape[0], 3, padding=1)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        e = self.label_emb(labels)  # (N, E)
        x = self.fc(torch.cat([z, e], dim=1)).view(len(z), self.c0, self.base, self.base)
        x = self.up2(self.up1(x, e), e)  # (N, W/2, H, W)
        return torch.tanh(self.out(F.relu(self.out_norm(x, e))))


class ProjectionDiscriminator(nn.Module):
    """Conv features h(x); score = w.h + <embed(y), h> (Miyato & Koyama 2018)."""

    def __init__(self, num_classes: int = 10, img_shape=(1, 28, 28), width: int = 32,
                 spectral: bool = True):
        super().__init__()
        sn = spectral_norm if spectral else (lambda m: m)
        self.features = nn.Sequential(  # (N, C, 28, 28) -> (N, W, 14, 14) -> (N, 2W, 7, 7)
            sn(nn.Conv2d(img_shape[0], width, 4, stride=2, padding=1)), nn.LeakyReLU(0.2, inplace=True),
            sn(nn.Conv2d(width, 2 * width, 4, stride=2, padding=1)), nn.LeakyReLU(0.2, inplace=True),
            sn(nn.Conv2d(2 * width, 2 * width, 3, padding=1)), nn.LeakyReLU(0.2, inplace=True))
        self.linear = sn(nn.Linear(2 * width, 1))
        self.embed = sn(nn.Embedding(num_classes, 2 * width))

    def forward(self, img: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.features(img).sum(dim=(2, 3))  # (N, 2W) global sum pooling
        return self.linear(h).squeeze(1) + (self.embed(labels) * h).sum(dim=1)  # (N,)


# ---------------------------------------------------------------- the exported generator

ARCHS = {"mlp": MLPGeneratorBody, "conv": ConvGeneratorBody, "resnet": ResNetGeneratorBody}


class Generator(nn.Module, PyTorchModelHubMixin,
                library_name="cgan-studio", tags=["gan", "conditional-gan", "pytorch"]):
    """Class-conditional generator.

    Args:
        arch: "mlp" (assignment baseline), "conv" or "resnet".
        latent_dim: size of the noise vector z.
        num_classes: number of classes K.
        img_shape: (C, H, W) of the images.
        class_names: a name per class, shown in the app.
        width: channel width of the conv / resnet body (ignored by "mlp").
    """

    def __init__(self, arch: str = "conv", latent_dim: int = 64, num_classes: int = 10,
                 img_shape: tuple[int, int, int] | list[int] = (1, 28, 28),
                 class_names: list[str] | None = None, width: int = 32):
        super().__init__()
        if arch not in ARCHS:
            raise ValueError(f"unknown generator arch {arch!r}; choose one of {', '.join(ARCHS)}")
        self.arch, self.latent_dim, self.num_classes, self.width = arch, latent_dim, num_classes, width
        self.img_shape = tuple(img_shape)
        self.class_names = list(class_names or [str(i) for i in range(num_classes)])
        if len(self.class_names) != num_classes:
            raise ValueError(f"{len(self.class_names)} class names for {num_classes} classes")
        if arch == "mlp":
            self.body = MLPGeneratorBody(latent_dim, num_classes, self.img_shape)
        else:
            self.body = ARCHS[arch](latent_dim, num_classes, self.img_shape, width)

    @property
    def config(self) -> dict:
        """The constructor arguments (what config.json holds): `Generator(**g.config)` rebuilds it."""
        return {"arch": self.arch, "latent_dim": self.latent_dim, "num_classes": self.num_classes,
                "img_shape": list(self.img_shape), "class_names": self.class_names, "width": self.width}

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """z (N, Z), labels (N,) int or (N, K) soft -> images (N, C, H, W) in [-1, 1]."""
        return self.body(z, labels)


def build_discriminator(arch: str, num_classes: int, img_shape, width: int = 32,
                        spectral: bool = False, classifier: bool = False, pack: int = 1) -> nn.Module:
    """The discriminator that pairs with generator `arch` (resnet's is always spectral-normed;
    only resnet's has the optional class head and packing)."""
    if classifier and arch != "resnet":
        raise ValueError(f"an auxiliary classifier (ac_weight > 0) needs arch resnet, not {arch!r}")
    if pack != 1 and arch != "resnet":
        raise ValueError(f"packing (pack > 1) needs arch resnet, not {arch!r}")
    if arch == "mlp":
        return MLPDiscriminator(num_classes, tuple(img_shape), spectral)
    if arch == "resnet":
        return ResNetProjectionDiscriminator(num_classes, tuple(img_shape), width, classifier, pack)
    return ProjectionDiscriminator(num_classes, tuple(img_shape), width, spectral)
