"""The GAN as a LightningModule: manual optimization, explicit D and G steps, EMA generator."""

from __future__ import annotations

import copy
import time

import pytorch_lightning as pl
import torch
from torch import nn
from torch.nn import functional as F

from gan import losses
from gan.augment import check_policy, diff_augment
from gan.nets import Generator, build_discriminator
from gan.sampling import standing_stats


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * model for parameters; buffers (BN stats) are copied."""
    for p_ema, p in zip(ema.parameters(), model.parameters()):
        p_ema.lerp_(p, 1.0 - decay)
    for b_ema, b in zip(ema.buffers(), model.buffers()):
        b_ema.copy_(b)


def pack_order(labels: torch.Tensor, pack: int) -> torch.Tensor:
    """Indices that arrange a batch into groups of `pack` images of one class for a packed D:
    sorted by class, each class cut to a multiple of `pack` (the rest left out of this batch)."""
    order = torch.argsort(labels, stable=True)
    counts = torch.bincount(labels)
    first = counts.cumsum(0) - counts  # index of each class's first image in `order`
    rank = torch.arange(len(labels), device=labels.device) - first[labels[order]]
    return order[rank < (counts // pack * pack)[labels[order]]]


def lr_factor(g_updates: int, start: int, length: int) -> float:
    """Both learning rates fall linearly to 0 over `length` G updates from update `start`
    (Miyato et al. 2018); `length` 0 keeps them constant."""
    if length <= 0 or g_updates < start:
        return 1.0
    return max(0.0, 1.0 - (g_updates - start) / length)


def ema_decay_at(step: int, decay: float) -> float:
    """Warm-up so early samples are not dominated by the random init: min(decay, (1+t)/(10+t))."""
    return min(decay, (1 + step) / (10 + step))


class GANModule(pl.LightningModule):
    """Conditional GAN with TTUR, `d_steps` D updates per G update and an EMA generator.

    All arguments are plain values, so checkpoints load with `weights_only=True` and no Hydra.
    """

    # the losses go to the progress bar and the Train tab's status (written every second) at
    # least this often, and to the logger on the batches it writes (`_log_loss`)
    loss_log_every_s = 0.5

    def __init__(self, arch: str = "conv", latent_dim: int = 64, num_classes: int = 10,
                 img_shape: tuple[int, int, int] | list[int] = (1, 28, 28),
                 class_names: list[str] | None = None, dataset: str = "mnist",
                 g_width: int = 32, d_width: int = 32, spectral_norm: bool = True,
                 loss: str = "hinge", lr_g: float = 2e-4, lr_d: float = 2e-4,
                 beta1: float = 0.0, beta2: float = 0.9, d_steps: int = 1,
                 ema_decay: float = 0.999, ms_weight: float = 0.0, channels_last: bool = False,
                 augment: str = "", standing_stats: bool = True,
                 lr_decay_start: int = 0, lr_decay_batches: int = 0, ac_weight: float = 0.0,
                 ac_margin: float = 0.0, cover_weight: float = 0.0, cover_pool: int = 8,
                 r1_gamma: float = 0.0, r1_every: int = 1, pack: int = 1):
        super().__init__()
        if loss not in losses.LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {losses.LOSSES}")
        if d_steps < 1:
            raise ValueError("d_steps must be >= 1")
        if ms_weight < 0:
            raise ValueError("ms_weight must be >= 0")
        if ac_weight < 0 or ac_margin < 0:
            raise ValueError("ac_weight and ac_margin must be >= 0")
        if cover_weight < 0 or cover_pool < 1:
            raise ValueError("cover_weight must be >= 0 and cover_pool >= 1")
        if r1_gamma < 0 or r1_every < 1:
            raise ValueError("r1_gamma must be >= 0 and r1_every >= 1")
        if pack < 1:
            raise ValueError("pack must be >= 1")
        if lr_decay_start < 0 or lr_decay_batches < 0:
            raise ValueError("lr_decay_start and lr_decay_batches must be >= 0")
        self.policy = check_policy(augment)  # DiffAugment on every D input; "" = off
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.generator = Generator(arch, latent_dim, num_classes, img_shape, class_names, g_width)
        self.discriminator = build_discriminator(arch, num_classes, img_shape, d_width, spectral_norm,
                                                 classifier=ac_weight > 0, pack=pack)
        self.g_ema = copy.deepcopy(self.generator).eval().requires_grad_(False)
        if channels_last:  # faster convolutions on CPU (oneDNN); the EMA copy keeps the default layout
            self.generator.to(memory_format=torch.channels_last)
            self.discriminator.to(memory_format=torch.channels_last)
        self.g_updates = 0
        self._diagnose_now = True  # training_step narrows it to the batches the logger writes
        self._loss_logged_at: dict[str, float] = {}

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.g_ema(z, labels)

    def exported_generator(self) -> Generator:
        """The generator a run hands out (exports, live snapshots, quality measurements,
        checkpoints): the EMA generator, with batch-norm statistics of its own when
        `standing_stats` is set (`gan.sampling.standing_stats`); a copy, so training is untouched."""
        return standing_stats(self.g_ema) if self.hparams.standing_stats else self.g_ema

    def configure_optimizers(self):
        betas = (float(self.hparams.beta1), float(self.hparams.beta2))
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=self.hparams.lr_g, betas=betas)
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=self.hparams.lr_d, betas=betas)
        return opt_g, opt_d

    def _score(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """D's raw scores (N / pack,) of (augmented, when `augment` is set) images and, with
        `ac_weight`, the cross-entropy of D's class head against `labels`, per image (N,) (None
        without). With `pack`, of the images in `pack_order` only."""
        if self.hparams.pack > 1:
            keep = pack_order(labels, self.hparams.pack)
            if not len(keep):
                raise ValueError(f"model.pack={self.hparams.pack} needs a batch with at least that many "
                                 "images of one class; raise data.batch_size")
            images, labels = images[keep], labels[keep]
        images = diff_augment(images, self.policy)
        if not self.hparams.ac_weight:
            return self.discriminator(images, labels), None
        h = self.discriminator.features(images)
        ce = F.cross_entropy(self.discriminator.class_logits(h).float(), labels, reduction="none")
        return self.discriminator.score(h, labels), ce

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.hparams.latent_dim, device=self.device)

    def training_step(self, batch, batch_idx: int) -> None:
        real, labels = batch  # (N, C, H, W) in [-1, 1], (N,)
        if self.hparams.channels_last:
            real = real.contiguous(memory_format=torch.channels_last)
        opt_g, opt_d = self.optimizers()
        self._diagnose_now = (batch_idx + 1) % max(self.trainer.log_every_n_steps, 1) == 0
        self._set_learning_rates(opt_g, opt_d)

        # --- discriminator: real vs detached fake of the same classes (R1 every r1_every-th step)
        loss_d = self._discriminator_loss(real, labels, r1=batch_idx % self.hparams.r1_every == 0)
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(loss_d)
        opt_d.step()
        self._log_loss("train/d_loss", loss_d)

        # --- generator: one update every d_steps discriminator updates
        if (batch_idx + 1) % self.hparams.d_steps:
            return
        loss_g = self._generator_loss(real, labels)
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(loss_g)
        opt_g.step()
        ema_update(self.g_ema, self.generator, ema_decay_at(self.g_updates, self.hparams.ema_decay))
        self.g_updates += 1
        self._log_loss("train/g_loss", loss_g)

    def _discriminator_loss(self, real: torch.Tensor, labels: torch.Tensor, r1: bool = False) -> torch.Tensor:
        """D's loss on real images and a detached fake of the same classes; with `ac_weight`, its
        class head learns the real labels (G is pulled towards its classes); with `r1_gamma` and
        `r1`, the R1 penalty, lazy (Karras et al. 2020): weighted up by `r1_every`."""
        r1 = bool(self.hparams.r1_gamma) and r1
        if r1:  # R1 needs D's gradient with respect to the real images; `real` itself is left alone
            real = real.detach().requires_grad_(True)
        with torch.no_grad():
            fake = self.generator(self._noise(len(real)), labels)
        (d_real, ce_real), (d_fake, _) = self._score(real, labels), self._score(fake, labels)
        loss_d = losses.d_loss(self.hparams.loss, d_real, d_fake)
        if r1:
            penalty = losses.r1_penalty(d_real, real)
            loss_d = loss_d + self.hparams.r1_gamma * self.hparams.r1_every / 2 * penalty
            self.log("train/r1", penalty)
        if self.hparams.ac_weight:
            loss_d = loss_d + self.hparams.ac_weight * ce_real.mean()
            self._diagnose({"train/ac_real": ce_real.mean()})
        self._diagnose({"train/d_real": d_real.mean(), "train/d_fake": d_fake.mean()})
        return loss_d

    def _diagnose(self, values: dict) -> None:
        """Log diagnostics (D's scores, the optional terms, the rate factor) on the batches whose
        logs the logger writes (every `trainer.log_every_n_steps`; aligned in a run's first epoch,
        later or after a resume at most that many batches stale); each `self.log` costs about 1 ms
        on a 2-core CPU.
        The losses: `_log_loss`; R1, itself every `r1_every` steps, at each of them."""
        if self._diagnose_now:
            self.log_dict(values)

    def _log_loss(self, name: str, value: torch.Tensor) -> None:
        """Log a loss on the batches the logger writes (`_diagnose_now`: aligned in a run's first
        epoch; later the logger may write the last value logged, at most about
        `loss_log_every_s` old) and otherwise at most every `loss_log_every_s`: a `self.log`
        call costs about 1 ms on a 2-core CPU, 3% of a 70 ms step when both losses were logged
        on every batch."""
        now, last = time.monotonic(), self._loss_logged_at.get(name, -float("inf"))
        if self._diagnose_now or now - last >= self.loss_log_every_s:
            self._loss_logged_at[name] = now
            self.log(name, value, prog_bar=True)

    def _set_learning_rates(self, opt_g, opt_d) -> None:
        """From the hparams, not the optimizer state, so a resumed run can start a decay."""
        factor = lr_factor(self.g_updates, self.hparams.lr_decay_start, self.hparams.lr_decay_batches)
        for opt, lr in ((opt_g, self.hparams.lr_g), (opt_d, self.hparams.lr_d)):
            for group in opt.optimizer.param_groups:
                group["lr"] = lr * factor
        if self.hparams.lr_decay_batches:
            self._diagnose({"train/lr_factor": factor})

    def _generator_loss(self, real: torch.Tensor, real_labels: torch.Tensor) -> torch.Tensor:
        """Adversarial G loss; with `ms_weight`, the batch's second half repeats the first half's
        labels with new noise and the mode-seeking term compares the two halves; with
        `cover_weight`, the same forward pass also draws, for each real image, the image of the
        noise that came nearest to it (`_covering_noise`) and pulls it closer (`losses.covering`)."""
        labels = real_labels
        half = len(labels) // 2 if self.hparams.ms_weight else 0
        if half:
            labels = labels[:half].repeat(2)
        z, n = self._noise(len(labels)), len(labels)
        if self.hparams.cover_weight:  # one batch, so batch norm sees both parts together
            z, labels = torch.cat([z, self._covering_noise(real, real_labels)]), torch.cat([labels, real_labels])
        fake = self.generator(z, labels)
        fake, near, labels = fake[:n], fake[n:], labels[:n]
        score, ce = self._score(fake, labels)
        loss = losses.g_loss(self.hparams.loss, score)
        if self.hparams.ac_weight:
            loss = loss + self.hparams.ac_weight * losses.class_pull(ce, self.hparams.ac_margin)
            self._diagnose({"train/ac_fake": ce.mean()})
        if half:
            ms = losses.mode_seeking(fake[:half], fake[half:], z[:half], z[half:n])
            self._diagnose({"train/ms_loss": ms})
            loss = loss + self.hparams.ms_weight * ms
        if self.hparams.cover_weight:
            cover = losses.covering(near, real)
            self._diagnose({"train/cover": cover})
            loss = loss + self.hparams.cover_weight * cover
        return loss

    @torch.no_grad()
    def _covering_noise(self, real: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """For each real image, of `cover_pool` noises drawn for its class, the one whose image
        lies nearest to it in pixels (N, latent_dim): IMLE's nearest-sample search. Drawn as
        `cover_pool` batches shaped like the training batch (same labels), so batch norm sees
        the statistics it trains with."""
        z = self._noise(len(real) * self.hparams.cover_pool).view(self.hparams.cover_pool, len(real), -1)
        dist = torch.stack([(self.generator(zi, labels).float() - real.float()).pow(2).flatten(1).sum(1)
                            for zi in z])  # (cover_pool, N)
        return z[dist.argmin(0), torch.arange(len(real))]

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["g_updates"] = self.g_updates
        # the exported generator's own description, so loaders never re-derive it from hparams
        checkpoint["generator"] = {"config": self.g_ema.config, "state_dict_prefix": "g_ema."}
        if self.hparams.standing_stats:  # a .ckpt loads as the generator the exports hold
            for name, buffer in self.exported_generator().named_buffers():
                checkpoint["state_dict"]["g_ema." + name] = buffer

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.g_updates = int(checkpoint.get("g_updates", 0))
        if self.hparams.ac_weight:
            self._add_class_head(checkpoint)

    def _add_class_head(self, checkpoint: dict) -> None:
        """Resuming a run saved without D's class head: the head starts fresh (its weights as
        initialised, no Adam state); everything else resumes as saved."""
        state = checkpoint["state_dict"]
        head = self.discriminator.classifier.state_dict(prefix="discriminator.classifier.")
        missing = {k: v for k, v in head.items() if k not in state}
        if not missing:
            return
        state.update(missing)
        for opt_state in checkpoint.get("optimizer_states", [])[1:2]:  # [opt_g, opt_d]
            ids = opt_state["param_groups"][0]["params"]
            new = len(list(self.discriminator.parameters())) - len(ids)
            ids.extend(range(max(ids) + 1, max(ids) + 1 + new))
