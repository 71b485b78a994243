"""The trainer's side of `status.json` (format: gan.status): a Lightning callback that keeps it
current, appends the loss history and honours a STOP file."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.utilities import rank_zero_only

from gan.status import (HISTORY_FILE, STATUS_FILE, STOP_FILE, artifacts, process_start_time,
                        write_json_atomic)


class RunStatus(pl.Callback):
    """Keeps `<run_dir>/status.json` current (at most every `every_s` seconds) and honours STOP."""

    def __init__(self, every_s: float = 1.0):
        self.every_s = every_s
        self.t0 = self.last = time.time()
        self.stopping = False
        self.done0 = 0  # batches already done when this process started (a resumed run)
        self.base = {"pid": os.getpid(), "pid_start": process_start_time(os.getpid())}

    def folder(self, trainer: pl.Trainer) -> Path:
        return Path(trainer.default_root_dir)

    def on_fit_start(self, trainer, pl_module) -> None:
        self.t0 = time.time()
        self.write(trainer, "running")

    def on_train_start(self, trainer, pl_module) -> None:
        self.done0 = batches_done(trainer)  # a resumed run's loops are restored by now, not at fit start

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        asked = (self.folder(trainer) / STOP_FILE).exists()
        # every rank decides together (DDP), or one would wait forever for the others
        if trainer.strategy.reduce_boolean_decision(asked, all=False) and not self.stopping:
            self.stopping = trainer.should_stop = True
        if time.time() - self.last >= self.every_s:
            self.write(trainer, "running", history=True)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.write(trainer, "running", history=True)

    @property
    def stop_reason(self) -> str | None:
        return "asked to (a STOP file in the run folder: the app's Stop button)" if self.stopping else None

    def teardown(self, trainer, pl_module, stage: str) -> None:
        # after every callback's on_train_end: the export and last.ckpt are on disk by now,
        # whatever the order of the callbacks
        if stage != "fit" or trainer.interrupted:
            return
        stopped = self.stopping or (self.folder(trainer) / STOP_FILE).exists()
        self.write(trainer, "stopped" if stopped else "finished", history=True,
                   message="stopped on request" if stopped else stop_reason(trainer) or "")

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        stopped = (self.folder(trainer) / STOP_FILE).exists()
        self.write(trainer, "stopped" if stopped else "failed",
                   message=f"{type(exception).__name__}: {exception}")

    @rank_zero_only
    def write(self, trainer: pl.Trainer, state: str, history: bool = False, message: str = "") -> None:
        self.last = time.time()
        status = {"state": state, **self.base, **progress(trainer, self.last - self.t0, self.done0),
                  "metrics": metrics(trainer), **artifacts(self.folder(trainer)),
                  "message": message, "updated": self.last}
        write_json_atomic(self.folder(trainer) / STATUS_FILE, status)
        if history and status["metrics"]:
            with open(self.folder(trainer) / HISTORY_FILE, "a") as f:
                f.write(json.dumps({"batches_done": status["batches_done"], **status["metrics"]}) + "\n")


def stop_reason(trainer: pl.Trainer) -> str | None:
    """Why a callback ended training early (its `stop_reason`), or None."""
    return next((c.stop_reason for c in trainer.callbacks if getattr(c, "stop_reason", None)), None)


def batches_done(trainer: pl.Trainer) -> int:
    """Training batches done so far, those before a resume (`ckpt_path=`) included."""
    return max(0, trainer.fit_loop.epoch_loop.total_batch_idx + 1)


def progress(trainer: pl.Trainer, elapsed: float, done0: int) -> dict:
    """`elapsed` seconds of this process, which started with `done0` batches already done: the
    ETA extrapolates from the batches this process trained, not from a resumed run's total."""
    per_epoch = trainer.num_training_batches if trainer.num_training_batches != float("inf") else 0
    total = int(per_epoch * trainer.max_epochs) if trainer.max_epochs and trainer.max_epochs > 0 else 0
    done = batches_done(trainer)
    done = min(done, total) if total else done
    eta = elapsed / (done - done0) * (total - done) if done > done0 and total else None
    # whole epochs trained: Lightning also counts an epoch cut short by a stop as done
    epochs_done = done // per_epoch if per_epoch else trainer.current_epoch
    return {"epoch": epochs_done, "max_epochs": trainer.max_epochs, "step": trainer.global_step,
            "batches_done": done, "total_batches": total, "progress": done / total if total else 0.0,
            "elapsed_s": round(elapsed, 2), "eta_s": None if eta is None else round(eta, 1)}


def metrics(trainer: pl.Trainer) -> dict:
    return {k: round(float(v), 5) for k, v in trainer.callback_metrics.items()
            if k.startswith(("train/", "val/")) and v.numel() == 1}
