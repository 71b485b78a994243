"""A run's `status.json` format, written by the trainer process and read by the run supervisor.

No Lightning here: the app reads this module. The trainer is the only writer while it lives
(`gan.status_callback.RunStatus`); the supervisor writes only
before the process starts and after it is gone. Writes are atomic (temp file + `os.replace`),
so a reader never sees half a file.

    state          starting | running | finished | stopped | failed
    pid, pid_start the trainer process and its start time (/proc/<pid>/stat field 22), so a
                   reused PID is never mistaken for the trainer
    epoch, max_epochs, step (optimizer steps), batches_done, total_batches, progress (0..1)
    elapsed_s, eta_s  seconds since this trainer process started training (a resumed run counts
                   from its resume), and the time left at this process's pace
    metrics        latest values of trainer.callback_metrics (train/*, val/*)
    sample, checkpoint, live, export   paths relative to the run folder, or null (live: the EMA
                   generator as it trains, refreshed with the samples)
    message        why it stopped or failed;  updated  unix time of the write

Each update also appends one line to `metrics.jsonl` (batches_done + metrics) for the curves.
A `STOP` file in the run folder asks the trainer to stop: it finishes the batch, and the
usual end-of-training callbacks save the checkpoint and export the generator.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

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


def artifacts(folder: Path) -> dict:
    def rel(path: str) -> str | None:
        return path if (folder / path).exists() else None
    return {"sample": rel("samples/latest.png"), "checkpoint": rel("checkpoints/last.ckpt"),
            "live": rel("live/config.json") and "live", "export": rel("export/config.json") and "export"}
