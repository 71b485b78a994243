"""A run's `status.json`, written by the trainer process and read by the run supervisor.

The trainer is the only writer while it lives (this callback); the supervisor writes only
before the process starts and after it is gone. Writes are atomic (temp file + `os.replace`),
so a reader never sees half a file.

    state          starting | running | finished | stopped | failed
    pid, pid_start the trainer process and its start time (/proc/<pid>/stat field 22), so a
                   reused PID is never mistaken for the trainer
    epoch, max_epochs, step (optimizer steps), batches_done, total_batches, progress (0..1)
    elapsed_s, eta_s
    metrics        latest values of trainer.callback_metrics (train/*, val/*)
    sample, checkpoint, export   paths relative to the run folder, or null
    message        why it stopped or failed;  updated  unix time of the write

Each update also appends one line to `metrics.jsonl` (batches_done + metrics) for the curves.
A `STOP` file in the run folder asks the trainer to stop: it finishes the batch, and the
usual end-of-training callbacks save the checkpoint and export the generator.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.utilities import rank_zero_only

STATUS_FILE = "status.json"
HISTORY_FILE = "metrics.jsonl"
STOP_FILE = "STOP"
LIVE_STATES = ("starting", "running")


def write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str))
    os.replace(tmp, path)


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def process_start_time(pid: int) -> int | None:
    """Start time of `pid` in clock ticks since boot, or None if there is no such live process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "(comm) ": field 3 onwards
    if fields[0] in ("Z", "X"):  # zombie or dead: exited, not yet reaped
        return None
    return int(fields[19])


class RunStatus(pl.Callback):
    """Keeps `<run_dir>/status.json` current (at most every `every_s` seconds) and honours STOP."""

    def __init__(self, every_s: float = 1.0):
        self.every_s = every_s
        self.t0 = self.last = time.time()
        self.stopping = False
        self.base = {"pid": os.getpid(), "pid_start": process_start_time(os.getpid())}

    def folder(self, trainer: pl.Trainer) -> Path:
        return Path(trainer.default_root_dir)

    def on_fit_start(self, trainer, pl_module) -> None:
        self.t0 = time.time()
        self.write(trainer, "running")

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        asked = (self.folder(trainer) / STOP_FILE).exists()
        # every rank decides together (DDP), or one would wait forever for the others
        if trainer.strategy.reduce_boolean_decision(asked, all=False) and not self.stopping:
            self.stopping = trainer.should_stop = True
        if time.time() - self.last >= self.every_s:
            self.write(trainer, "running", history=True)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.write(trainer, "running", history=True)

    def teardown(self, trainer, pl_module, stage: str) -> None:
        # after every callback's on_train_end: the export and last.ckpt are on disk by now,
        # whatever the order of the callbacks
        if stage != "fit" or trainer.interrupted:
            return
        stopped = self.stopping or (self.folder(trainer) / STOP_FILE).exists()
        self.write(trainer, "stopped" if stopped else "finished", history=True,
                   message="stopped on request" if stopped else "")

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        stopped = (self.folder(trainer) / STOP_FILE).exists()
        self.write(trainer, "stopped" if stopped else "failed",
                   message=f"{type(exception).__name__}: {exception}")

    @rank_zero_only
    def write(self, trainer: pl.Trainer, state: str, history: bool = False, message: str = "") -> None:
        self.last = time.time()
        status = {"state": state, **self.base, **progress(trainer, self.last - self.t0),
                  "metrics": metrics(trainer), **artifacts(self.folder(trainer)),
                  "message": message, "updated": self.last}
        write_json_atomic(self.folder(trainer) / STATUS_FILE, status)
        if history and status["metrics"]:
            with open(self.folder(trainer) / HISTORY_FILE, "a") as f:
                f.write(json.dumps({"batches_done": status["batches_done"], **status["metrics"]}) + "\n")


def progress(trainer: pl.Trainer, elapsed: float) -> dict:
    per_epoch = trainer.num_training_batches if trainer.num_training_batches != float("inf") else 0
    total = int(per_epoch * trainer.max_epochs) if trainer.max_epochs and trainer.max_epochs > 0 else 0
    done = max(0, trainer.fit_loop.epoch_loop.total_batch_idx + 1)
    done = min(done, total) if total else done
    eta = elapsed / done * (total - done) if done and total else None
    return {"epoch": trainer.current_epoch, "max_epochs": trainer.max_epochs, "step": trainer.global_step,
            "batches_done": done, "total_batches": total, "progress": done / total if total else 0.0,
            "elapsed_s": round(elapsed, 2), "eta_s": None if eta is None else round(eta, 1)}


def metrics(trainer: pl.Trainer) -> dict:
    return {k: round(float(v), 5) for k, v in trainer.callback_metrics.items()
            if k.startswith(("train/", "val/")) and v.numel() == 1}


def artifacts(folder: Path) -> dict:
    def rel(path: str) -> str | None:
        return path if (folder / path).exists() else None
    return {"sample": rel("samples/latest.png"), "checkpoint": rel("checkpoints/last.ckpt"),
            "export": rel("export/config.json") and "export"}
