"""Training callbacks: per-epoch sample grids, quality metrics and the final export of the EMA generator."""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.loggers import WandbLogger
from pytorch_lightning.utilities import rank_zero_only

from gan.export import export_generator, samples_image
from gan.images import save_png
from gan.judge import load_judge
from gan.metrics import embed, generate, real_subset, score
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


class QualityMetrics(pl.Callback):
    """Log `val/class_acc`, `val/fid`, `val/precision`, `val/recall` of the EMA generator.

    Runs every `every_n_epochs` epochs and/or every `every_n_batches` training batches (0 = off)
    on a small seeded budget (`per_class` samples per class against as many real test images
    per class), so it stays cheap; `python -m gan.evaluate` is the full-budget measurement.
    Each measurement is appended to `<run_dir>/quality.jsonl` with the training seconds so far
    (time spent measuring excluded). With `stop_at`, training stops once class accuracy reaches it.
    """

    def __init__(self, every_n_epochs: int = 1, every_n_batches: int = 0, per_class: int = 100,
                 seed: int = 0, stop_at: float | None = None):
        self.every_n_epochs, self.every_n_batches = every_n_epochs, every_n_batches
        self.per_class, self.seed, self.stop_at = per_class, seed, stop_at
        self.judge, self.real = None, None
        self.batches, self.eval_seconds, self.start = 0, 0.0, 0.0

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        dataset = pl_module.hparams.dataset
        self.judge = load_judge(dataset)
        self.real = embed(self.judge, *real_subset(dataset, "test", self.per_class, self.seed))
        self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        self.batches += 1
        if self.every_n_batches and self.batches % self.every_n_batches == 0:
            self.log_metrics(pl_module, self.measure(trainer, pl_module))

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.every_n_epochs and (trainer.current_epoch + 1) % self.every_n_epochs == 0:
            self.log_metrics(pl_module, self.measure(trainer, pl_module))

    @staticmethod
    def log_metrics(pl_module: pl.LightningModule, metrics: dict) -> None:
        pl_module.log_dict({f"val/{k}": v for k, v in metrics.items()})

    def measure(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict:
        """Score the EMA generator now, append the record; callable after fit too (no logging)."""
        t0 = time.perf_counter()
        generator = pl_module.g_ema
        fake = embed(self.judge, *generate(generator, self.per_class, self.seed))
        metrics = score(self.real, fake, generator.num_classes, per_class=False)
        record = {"batch": self.batches, "epoch": trainer.current_epoch,
                  "train_seconds": t0 - self.start - self.eval_seconds,
                  "eval_seconds": time.perf_counter() - t0, **metrics}
        self.eval_seconds += record["eval_seconds"]
        self._append(trainer, record)
        if self.stop_at is not None and metrics["class_acc"] >= self.stop_at:
            trainer.should_stop = True
        return metrics

    @rank_zero_only
    def _append(self, trainer: pl.Trainer, record: dict) -> None:
        path = run_dir(trainer) / "quality.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as f:
            f.write(json.dumps(record) + "\n")
