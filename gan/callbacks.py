"""Training callbacks: per-epoch sample grids, quality metrics and the final export of the EMA generator."""

from __future__ import annotations

import copy
import json
import shlex
import sys
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import WandbLogger
from pytorch_lightning.utilities import rank_zero_only

from gan.export import export_generator, samples_image
from gan.images import save_png
from gan.judge import load_judge
from gan.metrics import embed, real_subset, score
from gan.sampling import class_balanced
from gan.publish import log_model_artifact


def run_dir(trainer: pl.Trainer) -> Path:
    return Path(trainer.default_root_dir)


class SampleGrid(pl.Callback):
    """Every `every_n_epochs` epochs: fixed-noise grid of the EMA generator, one row per class.

    Saved as `<run_dir>/samples/epoch_XXX.png` (and `latest.png`); also logged as a W&B image
    when a W&B logger is active. Every `every_s` seconds of training too (0 = off), so the first
    epoch shows samples: `latest.png` and `<run_dir>/live/`, the EMA generator as an export
    folder that the app can load while the run goes on. A snapshot of a big generator takes
    seconds (its standing statistics above all), so the next one waits until the snapshots have
    taken at most `max_share` of the run's time (0 = every `every_s` seconds regardless).
    """

    def __init__(self, per_class: int = 8, seed: int = 0, every_n_epochs: int = 1, every_s: float = 30.0,
                 max_share: float = 0.05):
        self.per_class, self.seed, self.every_n_epochs, self.every_s = per_class, seed, every_n_epochs, every_s
        self.max_share = max_share
        self.last, self.wait = time.time(), every_s

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.last = time.time()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        if self.every_s and time.time() - self.last >= self.wait:
            self.snapshot(trainer, pl_module)

    @rank_zero_only
    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if (trainer.current_epoch + 1) % self.every_n_epochs:
            return
        image = self.snapshot(trainer, pl_module)
        save_png(image, run_dir(trainer) / "samples" / f"epoch_{trainer.current_epoch:03d}.png")
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.log_image("samples", [image], step=trainer.global_step,
                                 caption=[f"epoch {trainer.current_epoch}: one row per class"])

    @rank_zero_only
    def snapshot(self, trainer: pl.Trainer, pl_module: pl.LightningModule):
        """The live export folder, then latest.png (once samples show, the generator loads);
        returns the sample grid."""
        start = time.time()
        card = training_card(trainer, pl_module)
        card["title"] += f" (live, after {trainer.global_step} steps of a run still training)"
        generator = pl_module.exported_generator()
        export_generator(generator, run_dir(trainer) / "live", card, in_place=True)  # loaded meanwhile
        image = samples_image(generator, self.per_class, self.seed)
        save_png(image, run_dir(trainer) / "samples" / "latest.png")
        self.last = time.time()
        self.wait = max(self.every_s, (self.last - start) / self.max_share if self.max_share else 0.0)
        return image


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

    When `QualityMetrics` monitors a metric and its best measurement is not the final state,
    that generator is exported too, to `<run_dir>/<folder>-best/`. With a W&B logger each
    folder is logged as a `model` artifact: alias `latest` for the final one, `best` for the
    best one (both aliases on one artifact when the final state is the best).
    """

    def __init__(self, folder: str = "export"):
        self.folder = folder

    @rank_zero_only
    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        card, generator = training_card(trainer, pl_module), pl_module.exported_generator()
        exports = [(export_generator(generator, run_dir(trainer) / self.folder, card), card, ["latest"])]
        best = monitored_best(trainer)
        if best is not None and best.is_state_of(generator):
            exports[0][2].append("best")
        elif best is not None:
            best_card = {**card, "epochs": best.epoch + 1, "steps": None, "metrics": best.metrics,
                         "selected": f"best {best.monitor} = {best.value:.4g} (in epoch {best.epoch + 1}, "
                                     f"after {best.batch} batches)"}
            path = export_generator(best.generator(generator),
                                    run_dir(trainer) / f"{self.folder}-best", best_card)
            exports.append((path, best_card, ["best"]))
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):  # final one last: W&B moves `latest` to the newest version
                for path, folder_card, aliases in reversed(exports):
                    log_model_artifact(logger.experiment, path, folder_card, aliases=aliases)


class BestState:
    """The EMA generator's weights at the best measurement of a monitored quality metric."""

    LOWER_IS_BETTER = ("fid",)

    def __init__(self, monitor: str, value: float, metrics: dict, epoch: int, batch: int, state: dict):
        self.monitor, self.value, self.metrics = monitor, value, metrics
        self.epoch, self.batch, self.state = epoch, batch, state

    @classmethod
    def improves(cls, monitor: str, value: float, best: "BestState | None") -> bool:
        if best is None:
            return True
        return value < best.value if monitor in cls.LOWER_IS_BETTER else value > best.value

    def is_state_of(self, generator) -> bool:
        now = generator.state_dict()
        return all(torch.equal(now[k].cpu(), v) for k, v in self.state.items())

    def generator(self, like):
        g = copy.deepcopy(like)
        g.load_state_dict(self.state)
        return g


@rank_zero_only
def _say(message: str) -> None:
    print(message, flush=True)


def monitored_best(trainer: pl.Trainer) -> BestState | None:
    return next((c.best for c in trainer.callbacks if isinstance(c, QualityMetrics) and c.best), None)


class QualityMetrics(pl.Callback):
    """Log `val/class_acc`, `val/fid`, `val/precision`, `val/recall` of the EMA generator.

    Runs every `every_n_epochs` epochs and/or every `every_n_batches` training batches (0 = off)
    on a small seeded budget (`per_class` samples per class against as many real test images
    per class), so it stays cheap; `python -m gan.evaluate` is the full-budget measurement.
    Each measurement is appended to `<run_dir>/quality.jsonl` with the training seconds so far
    (time spent measuring excluded). With `stop_at`, training stops once class accuracy reaches it.
    With `monitor` (one of METRICS; `fid` is lower-is-better, the others higher), the generator
    at the best measurement is kept in memory as `best` for `ExportGenerator`. A run whose
    dataset has no judge (image folders), or whose images the judge cannot take, is told so in
    one line at the start and measures nothing.
    """

    METRICS = ("class_acc", "fid", "precision", "recall")

    def __init__(self, every_n_epochs: int = 1, every_n_batches: int = 0, per_class: int = 100,
                 seed: int = 0, stop_at: float | None = None, monitor: str | None = None):
        if monitor is not None and monitor not in self.METRICS:
            raise ValueError(f"monitor must be one of {self.METRICS}, not {monitor!r}")
        self.every_n_epochs, self.every_n_batches = every_n_epochs, every_n_batches
        self.per_class, self.seed, self.stop_at, self.monitor = per_class, seed, stop_at, monitor
        self.best: BestState | None = None
        self.stop_reason: str | None = None
        self.judge, self.real = None, None
        self.batches, self.eval_seconds, self.start = 0, 0.0, 0.0

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.start = time.perf_counter()
        dataset = pl_module.hparams.dataset
        try:
            judge = load_judge(dataset)
            judge.fit_input(torch.zeros(1, *pl_module.hparams.img_shape))  # takes these images?
        except (FileNotFoundError, ValueError) as e:
            _say(f"QualityMetrics: no quality metrics for this run ({e})")
            return
        self.judge = judge
        self.real = embed(self.judge, *real_subset(dataset, "test", self.per_class, self.seed))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        self.batches += 1
        if self.every_n_batches and self.batches % self.every_n_batches == 0:
            self.log_metrics(pl_module, self.measure(trainer, pl_module))

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.every_n_epochs and (trainer.current_epoch + 1) % self.every_n_epochs == 0:
            self.log_metrics(pl_module, self.measure(trainer, pl_module))

    @staticmethod
    def log_metrics(pl_module: pl.LightningModule, metrics: dict) -> None:
        if metrics:
            pl_module.log_dict({f"val/{k}": v for k, v in metrics.items()})

    def measure(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict:
        """Score the EMA generator now, append the record; callable after fit too (no logging).
        Returns {} when there is no judge for this run."""
        if self.judge is None:
            return {}
        t0 = time.perf_counter()
        generator = pl_module.exported_generator()
        fake = embed(self.judge, *class_balanced(generator, self.per_class, self.seed))
        metrics = score(self.real, fake, generator.num_classes, per_class=False)
        record = {"batch": self.batches, "epoch": trainer.current_epoch,
                  "train_seconds": t0 - self.start - self.eval_seconds,
                  "eval_seconds": time.perf_counter() - t0, **metrics}
        self.eval_seconds += record["eval_seconds"]
        self._append(trainer, record)
        self._keep_if_best(generator, record)
        if self.stop_at is not None and metrics["class_acc"] >= self.stop_at:
            trainer.should_stop = True
            self.stop_reason = (f"class accuracy {metrics['class_acc']:.1%} reached the target "
                                f"{self.stop_at:.0%} (callbacks.metrics.stop_at), after {self.batches} batches")
        return metrics

    def _keep_if_best(self, generator, record: dict) -> None:
        if self.monitor is None or not BestState.improves(self.monitor, record[self.monitor], self.best):
            return
        state = {k: v.detach().cpu().clone() for k, v in generator.state_dict().items()}
        metrics = {f"val/{k}": record[k] for k in self.METRICS}
        self.best = BestState(self.monitor, record[self.monitor], metrics, record["epoch"],
                              record["batch"], state)

    @rank_zero_only
    def _append(self, trainer: pl.Trainer, record: dict) -> None:
        path = run_dir(trainer) / "quality.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as f:
            f.write(json.dumps(record) + "\n")
