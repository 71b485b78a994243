"""The terminal progress bar of `python -m gan.train`: epochs counted from 1 of the planned
number ("Epoch 1/3", where Lightning says "Epoch 0/2"), and short loss names without the logger
version, so a line fits a 100-column terminal instead of wrapping."""

from __future__ import annotations

from pytorch_lightning.callbacks import RichProgressBar


class EpochProgressBar(RichProgressBar):
    def _get_train_description(self, current_epoch: int) -> str:
        planned = self.trainer.max_epochs
        return f"Epoch {current_epoch + 1}/{planned}" if planned and planned > 0 else f"Epoch {current_epoch + 1}"

    def get_metrics(self, trainer, pl_module) -> dict:
        items = super().get_metrics(trainer, pl_module)
        items.pop("v_num", None)
        return {name.rsplit("/", 1)[-1]: value for name, value in items.items()}  # train/d_loss -> d_loss
