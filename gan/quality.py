"""A generator's quality as one clearly labelled set of numbers, for people (app and model card).

The evaluation `python -m gan.evaluate` writes next to an export (`metrics.json`: 1,000 samples
per class against the real test split, with the real floor) is the set to show. Without one,
the last measurement made during training (`val/*` in card.json, on the callback's small
budget, no floor) is shown, labelled as such. Losses are not quality and are not shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from gan.card_text import plain
from gan.limits import LOAD

EVALUATION_FILE = "metrics.json"
# metric key, name for people, format; lower is better only for the Frechet distance
SUMMARY = (("class_acc", "class accuracy", "{:.2%}"),
           ("fid", "Frechet distance (judge features)", "{:.3f}"),
           ("precision", "precision (k=3)", "{:.3f}"), ("recall", "recall (k=3)", "{:.3f}"))
TRAINING_NOTE = ("By the QualityMetrics callback on its small budget "
                 "(100 samples per class by default, no real floor); small samples make the "
                 "Frechet distance larger and precision/recall noisier, so these are not "
                 "comparable with an evaluation.")
HINT = "`python -m gan.evaluate SOURCE --card` scores it against real data, with the real floor."


@dataclass(frozen=True)
class Quality:
    """What to show: `rows` are (name, generator text, floor text or ""), `per_class` holds
    (class name, accuracy, real-floor accuracy) when known."""

    title: str
    note: str
    rows: list[tuple[str, str, str]]
    per_class: list[tuple[str, float, float]] | None = None


def from_evaluation(result: dict) -> Quality:
    """From `gan.evaluate`'s result (metrics.json)."""
    g, floor = result["generator"], result["real_floor"]
    rows = [(name, fmt.format(g[key]) + _ratio(key, g[key], floor[key]), fmt.format(floor[key]))
            for key, name, fmt in SUMMARY]
    per_class = [(str(name), float(acc), float(low)) for name, acc, low in
                 zip(result["class_names"], g["class_acc_per_class"], floor["class_acc_per_class"])]
    note = (f"`python -m gan.evaluate`: {result['per_class']:,} samples per class (seed "
            f"{result['seed']:d}) against the real {plain(result['dataset'])} test split. The real "
            "floor scores real training images the same way: the best a generator can get.")
    return Quality("Evaluation", note, rows, per_class)


def _ratio(key: str, value: float, floor: float) -> str:
    return f" ({value / floor:.1f}x floor)" if key == "fid" and floor > 0 else ""


def from_training(metrics: dict, hint: bool = True) -> Quality | None:
    """From card.json's training-time `val/*` values (with the evaluate hint when `hint`), or
    None when there are none."""
    rows = [(name, fmt.format(metrics[f"val/{key}"]), "") for key, name, fmt in SUMMARY
            if isinstance(metrics.get(f"val/{key}"), (int, float))]
    note = f"{TRAINING_NOTE} {HINT}" if hint else TRAINING_NOTE
    return Quality("Measured during training", note, rows) if rows else None


def read(folder: str | Path | None, card: dict) -> Quality | None:
    """The quality to show for an export folder (or a .ckpt's parent: no evaluation there) and
    its card; None when nothing was measured."""
    path = Path(folder) / EVALUATION_FILE if folder and Path(folder).is_dir() else None
    # at most a card's size: a folder may come from anywhere (hf:), like its card
    if path and path.is_file() and path.stat().st_size <= LOAD.card_bytes:
        try:
            return from_evaluation(json.loads(path.read_text()))
        except (ValueError, KeyError, TypeError, AttributeError):
            pass  # not gan.evaluate's format: fall back to what the card says
    return from_training(card.get("metrics") or {})


def markdown(quality: Quality | None) -> str:
    """Title, note and table, or a hint where nothing was measured."""
    if quality is None:
        return f"**Quality:** not measured yet. {HINT}"
    return f"**{quality.title}.** {quality.note}\n\n{table(quality)}"


def table(quality: Quality) -> str:
    """The summary as a markdown table (with a real-floor column when there are floors)."""
    if any(floor for _, _, floor in quality.rows):
        lines = ["| metric | generator | real floor |", "| --- | ---: | ---: |"]
        return "\n".join(lines + [f"| {n} | {v} | {f} |" for n, v, f in quality.rows])
    lines = ["| metric | value |", "| --- | ---: |"]
    return "\n".join(lines + [f"| {n} | {v} |" for n, v, _ in quality.rows])
