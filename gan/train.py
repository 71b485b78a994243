"""The one training entry point: `python -m gan.train experiment=NAME [overrides]`.

Only this file turns config into objects (`hydra.utils.instantiate`); everything it builds
takes plain values.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import hydra
import pytorch_lightning as pl
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.loggers import WandbLogger

from gan.limits import SECRET_WORDS

# Expected here: the EMA generator is kept in eval mode, and GAN training has no validation_step.
warnings.filterwarnings("ignore", message=r".*module\(s\) in eval mode.*")
warnings.filterwarnings("ignore", message=r".*have no `validation_step`.*")
warnings.filterwarnings("ignore", message=r".*LeafSpec.*")


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
    trainer = instantiate(cfg.trainer, _convert_="all", logger=loggers or False, callbacks=callbacks,
                          default_root_dir=str(run_dir))
    for logger in loggers:
        logger.log_hyperparams(public_config(cfg))
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    finally:
        finish_loggers(loggers)
    return run_dir


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
