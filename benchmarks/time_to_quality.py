"""Wall time to judge class accuracies of 95% and 99%: `mnist_fast` vs the assignment's `mnist_mlp`.

`mnist_fast` trains on real MNIST until its EMA generator reaches the highest target class
accuracy (measured every `--every` batches on 100 samples per class by
`gan.callbacks.QualityMetrics`) or `--cap` seconds pass. `mnist_mlp` then trains for the same
number of training seconds. Training seconds exclude the time spent measuring; both sides are
measured alike. Both print side by side as a markdown table, with the time each target was
first reached. Take the figure on a quiet machine (the load average is printed).

    python benchmarks/time_to_quality.py [--threads 2] [--targets 0.95 0.99] [--every 100] [--cap 900]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gan.callbacks import QualityMetrics  # noqa: E402


class TrainBudget(pl.Callback):
    """Stop once `seconds` of training (QualityMetrics' clock, measuring excluded) have passed."""

    def __init__(self, quality: QualityMetrics, seconds: float):
        self.quality, self.seconds = quality, seconds

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        spent = time.perf_counter() - self.quality.start - self.quality.eval_seconds
        if spent >= self.seconds:
            trainer.should_stop = True


def load_cfg(experiment: str, run_dir: str, overrides: list[str] = ()):
    configs = Path(__file__).resolve().parent.parent / "configs"
    with initialize_config_dir(config_dir=str(configs), version_base="1.3"):
        return compose("train", overrides=[f"experiment={experiment}", f"run_dir={run_dir}",
                                           "callbacks=none", "logger=none", *overrides])


def run(experiment: str, every: int, target: float | None, seconds: float,
        overrides: list[str] = ()) -> list[dict]:
    """Train `experiment` from scratch; return QualityMetrics' records (the last one at the stop)."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_cfg(experiment, tmp, overrides)
        pl.seed_everything(cfg.seed, workers=True)
        dm = instantiate(cfg.data, _convert_="all")
        model = instantiate(cfg.model, _convert_="all", num_classes=len(dm.class_names),
                            img_shape=list(dm.img_shape), class_names=dm.class_names, dataset=dm.dataset)
        quality = QualityMetrics(every_n_epochs=0, every_n_batches=every, stop_at=target)
        trainer = instantiate(cfg.trainer, _convert_="all", max_epochs=1000, logger=False,
                              enable_progress_bar=False, enable_checkpointing=False,
                              callbacks=[quality, TrainBudget(quality, seconds)], default_root_dir=tmp)
        trainer.fit(model, datamodule=dm)
        if quality.batches % every:
            quality.measure(trainer, model)  # the state the run stopped in
        return read_records(Path(tmp) / "quality.jsonl")


def read_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def first_reaching(records: list[dict], target: float) -> dict | None:
    return next((r for r in records if r["class_acc"] >= target), None)


def reached(records: list[dict], target: float) -> str:
    hit = first_reaching(records, target)
    return f"{hit['train_seconds']:.0f} s ({hit['batch']} batches)" if hit else "not reached"


def row(name: str, records: list[dict], targets: list[float], batch_size: int) -> str:
    last = records[-1]
    times = " | ".join(reached(records, t) for t in targets)
    return (f"| {name} | {times} | {last['train_seconds']:.0f} s | {last['batch'] * batch_size} "
            f"| {last['class_acc']:.2%} | {last['fid']:.2f} | {last['precision']:.3f} | {last['recall']:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--targets", type=float, nargs="+", default=[0.95, 0.99])
    parser.add_argument("--every", type=int, default=100, help="measure every N batches")
    parser.add_argument("--cap", type=float, default=900, help="give up on mnist_fast after N s")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()
    fast = run("mnist_fast", args.every, max(args.targets), args.cap)
    mlp = run("mnist_mlp", args.every, None, fast[-1]["train_seconds"])
    print(f"\nTime to judge class accuracy, {args.threads} threads, "
          f"load average at start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}, "
          f"at end {os.getloadavg()[0]:.2f}; metrics on 100 samples per class.\n")
    heads = " | ".join(f"time to {t:.0%}" for t in args.targets)
    print(f"| experiment | {heads} | trained for | images seen | class acc | Frechet distance "
          "| precision | recall |")
    print("| --- | " + "---: | " * len(args.targets) + "---: | ---: | ---: | ---: | ---: | ---: |")
    print(row("mnist_fast", fast, args.targets, load_cfg("mnist_fast", "/tmp").data.batch_size))
    print(row("mnist_mlp (baseline)", mlp, args.targets, load_cfg("mnist_mlp", "/tmp").data.batch_size))


if __name__ == "__main__":
    main()
