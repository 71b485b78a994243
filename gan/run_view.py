"""What the Train tab shows about a run, read from its folder: progress line, curves, log tail,
table rows. Plain data; the Gradio layer only puts it into components."""

from __future__ import annotations

import json
import math
from collections import deque
from pathlib import Path

from PIL import Image

from gan.status import HISTORY_FILE

TABLE_COLUMNS = ["run", "state", "dataset", "model", "loss", "epochs", "progress", "message"]
CURVE_KEYS = ("train/g_loss", "train/d_loss")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def progress_line(status: dict) -> str:
    """'running · epoch 2/5 · 120/300 batches · 40% · ETA 1m 20s' (ETA only while live)."""
    parts = [status.get("state", "?")]
    if status.get("max_epochs"):
        parts.append(f"epoch {epoch_of(status)}/{status['max_epochs']}")
    if status.get("total_batches"):
        parts += [f"{status.get('batches_done', 0)}/{status['total_batches']} batches",
                  f"{status.get('progress', 0.0):.0%}"]
    if status.get("state") == "running":
        parts.append(f"ETA {duration(status.get('eta_s'))}")
    if status.get("message"):
        parts.append(status["message"])
    return " · ".join(parts)


def epoch_of(status: dict) -> int:
    """The epoch (1-based) the run is in, or ended in, counted from its batches: a run stopped
    early in epoch 1 of 2 says 1, not 2."""
    epochs, total = status["max_epochs"], status.get("total_batches")
    if total:
        per_epoch = total / epochs
        return min(epochs, max(1, math.ceil(status.get("batches_done", 0) / per_epoch)))
    return min(status.get("epoch", 0) + 1, epochs)


def curve_rows(folder: Path, keys=CURVE_KEYS, max_points: int = 400) -> list[dict]:
    """Long-format rows {batch, value, metric} from metrics.jsonl, thinned to ~max_points each."""
    points = []
    path = Path(folder) / HISTORY_FILE
    lines = path.read_text().splitlines() if path.exists() else []
    for line in lines:
        try:
            points.append(json.loads(line))
        except ValueError:
            continue  # a line being written right now
    every = max(1, len(points) // max_points)
    return [{"batch": p["batches_done"], "value": p[k], "metric": k}
            for p in points[::every] for k in keys if k in p]


def log_tail(path: Path, lines: int = 30) -> str:
    if not Path(path).exists():
        return ""
    with open(path, errors="replace") as f:
        return "".join(deque(f, maxlen=lines))


def table_row(status: dict) -> list:
    params = status.get("params") or {}
    return [status["id"], status.get("state", "?"), params.get("dataset"), params.get("model"),
            params.get("loss"), params.get("epochs"), f"{status.get('progress', 0.0):.0%}",
            status.get("message", "")]


def latest_sample(status: dict) -> Image.Image | None:
    """The newest sample grid (written atomically by the trainer), or None before the first."""
    if not status.get("sample"):
        return None
    try:
        with Image.open(status["sample"]) as image:
            return image.copy()
    except OSError:  # the run folder was deleted meanwhile
        return None


def generate_source(status: dict) -> str | None:
    """What the Generate tab should load: the export when there is one, else the live snapshot
    of a run still training (refreshed with its samples), else the latest checkpoint."""
    return status.get("export") or status.get("live") or status.get("checkpoint")
