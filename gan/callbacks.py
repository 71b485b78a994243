"""Training callbacks: per-epoch sample grids and the final export of the EMA generator."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.loggers import WandbLogger
from pytorch_lightning.utilities import rank_zero_only

from gan.export import export_generator, samples_image
from gan.images import save_png
from gan.publish import log_model_artifact


def run_dir(trainer: pl.Trainer) -> Path:
    return Path(trainer.default_root_dir)


class SampleGrid(pl.Callback):
    """Every `every_n_epochs` epochs: fixed-noise grid of the EMA generator, one row per class.

    Saved as `<run_dir>/samples/epoch_XXX.png` (and `latest.png`); also logged as a W&B image
    when a W&B logger is active.
    """

    def __init__(self, per_class: int = 8, seed: int = 0, every_n_epochs: int = 1):
        self.per_class, self.seed, self.every_n_epochs = per_class, seed, every_n_epochs

    @rank_zero_only
    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if (trainer.current_epoch + 1) % self.every_n_epochs:
            return
        image = samples_image(pl_module.g_ema, self.per_class, self.seed)
        folder = run_dir(trainer) / "samples"
        save_png(image, folder / f"epoch_{trainer.current_epoch:03d}.png")
        save_png(image, folder / "latest.png")
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.log_image("samples", [image], step=trainer.global_step,
                                 caption=[f"epoch {trainer.current_epoch}: one row per class"])


def training_card(trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict:
    hp = pl_module.hparams
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()
               if k.startswith(("val/", "train/"))}
    return {"title": f"cGAN Studio {hp.arch} generator, {hp.dataset}", "dataset": hp.dataset,
            "arch": hp.arch, "loss": hp.loss, "epochs": trainer.current_epoch,
            "steps": trainer.global_step, "command": shlex.join(["python", "-m", "gan.train", *sys.argv[1:]]),
            "hparams": dict(hp), "metrics": metrics}


class ExportGenerator(pl.Callback):
    """At the end of training, export the EMA generator to `<run_dir>/export/`.

    With a W&B logger, the folder is also logged as a `model` artifact (alias `latest`).
    """

    def __init__(self, folder: str = "export"):
        self.folder = folder

    @rank_zero_only
    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        card = training_card(trainer, pl_module)
        path = export_generator(pl_module.g_ema, run_dir(trainer) / self.folder, card)
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                log_model_artifact(logger.experiment, path, card, aliases=["latest"])

