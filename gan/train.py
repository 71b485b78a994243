"""The one training entry point: `python -m gan.train experiment=NAME [overrides]`.

Only this file turns config into objects (`hydra.utils.instantiate`); everything it builds
takes plain values.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import hydra
import pytorch_lightning as pl
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.loggers import WandbLogger

from gan.limits import SECRET_WORDS
from gan.progress_bar import EpochProgressBar
from gan.status_callback import stop_reason

# Expected here: the EMA generator is kept in eval mode, and GAN training has no validation_step.
warnings.filterwarnings("ignore", message=r".*module\(s\) in eval mode.*")
warnings.filterwarnings("ignore", message=r".*have no `validation_step`.*")
warnings.filterwarnings("ignore", message=r".*LeafSpec.*")


class NoAdverts(logging.Filter):
    """Drops Lightning's "try litlogger" tip from the run's log (and the Train tab's log panel)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "litlogger" not in record.getMessage()


for _name in ("pytorch_lightning.utilities.rank_zero", "lightning_fabric.utilities.rank_zero"):
    logging.getLogger(_name).addFilter(NoAdverts())


def build_loggers(cfg: DictConfig) -> list:
    """One logger per entry of the `logger` group; W&B falls back to offline without a key."""
    loggers = []
    for name, conf in (cfg.get("logger") or {}).items():
        if name == "wandb" and not os.environ.get("WANDB_API_KEY") and "WANDB_MODE" not in os.environ:
            os.environ["WANDB_MODE"] = "offline"
            print("W&B: no WANDB_API_KEY set, logging offline (sync later with `wandb sync`).")
        loggers.append(instantiate(conf, _convert_="all"))
    return loggers


def public_config(cfg: DictConfig) -> dict:
    """The resolved config minus anything that looks like a secret, for loggers."""
    def clean(node):
        if isinstance(node, dict):
            return {k: clean(v) for k, v in node.items()
                    if not any(w in str(k).lower() for w in SECRET_WORDS)}
        return node
    return clean(OmegaConf.to_container(cfg, resolve=True))


def train(cfg: DictConfig) -> Path:
    """Fit the model described by `cfg`; return the run folder (export lands in `<run>/export`)."""
    pl.seed_everything(cfg.seed, workers=True)
    run_dir = Path(cfg.run_dir)
    datamodule = instantiate(cfg.data, _convert_="all")
    model = instantiate(cfg.model, _convert_="all", num_classes=len(datamodule.class_names),
                        class_names=datamodule.class_names, img_shape=list(datamodule.img_shape),
                        dataset=datamodule.dataset)
    loggers = build_loggers(cfg)
    callbacks = [instantiate(c, _convert_="all") for c in (cfg.get("callbacks") or {}).values()]
    if cfg.trainer.get("enable_progress_bar", True):
        callbacks.append(EpochProgressBar())
    trainer = instantiate(cfg.trainer, _convert_="all", logger=loggers or False, callbacks=callbacks,
                          default_root_dir=str(run_dir))
    for logger in loggers:
        logger.log_hyperparams(public_config(cfg))
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    finally:
        finish_loggers(loggers)
    if trainer.is_global_zero:
        print(summary(trainer, run_dir), flush=True)
    return run_dir


def summary(trainer: pl.Trainer, run_dir: Path) -> str:
    """How the run ended and where its generator is, for the terminal and the run's log."""
    planned = trainer.max_epochs
    reason = stop_reason(trainer)
    if trainer.interrupted:
        how = "Interrupted"
    elif reason:
        how = f"Stopped early: {reason}"
    else:
        how = f"Finished {trainer.current_epoch} of {planned} epochs" if planned and planned > 0 else "Finished"
    lines = [f"{how} ({trainer.global_step} optimizer steps)."]
    exports = [run_dir / name for name in ("export", "export-best") if (run_dir / name / "config.json").is_file()]
    lines += [f"Generator: {path}   (load it in the app, or: python -m gan.evaluate {path})" for path in exports]
    return "\n".join(lines) if exports else "\n".join(lines + [f"No export written; run folder: {run_dir}"])


def finish_loggers(loggers: list) -> None:
    """Close W&B runs and wait until the service has written (offline) or uploaded everything."""
    wandb_runs = [lg.experiment for lg in loggers if isinstance(lg, WandbLogger) and lg._experiment]
    for run in wandb_runs:
        run.finish()
    if wandb_runs:
        import wandb

        wandb.teardown()


@hydra.main(version_base="1.3", config_path="../configs", config_name="train")
def main(cfg: DictConfig) -> None:
    train(cfg)


if __name__ == "__main__":
    main()
