"""Cost of one QualityMetrics measurement vs one training epoch, same machine, same moment.

A measurement = sample `per_class` images per class from the EMA generator, run the judge,
score them against the cached real features (Frechet distance, k-NN precision/recall).
The epoch time comes from the Lightning training rate measured by `train_throughput.py`.

    python benchmarks/metrics_cost.py [--experiment mnist_conv] [--per-class 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from train_throughput import build, lightning_rate, load_cfg  # noqa: E402

from gan.judge import load_judge  # noqa: E402
from gan.metrics import embed, real_subset, score  # noqa: E402
from gan.sampling import class_balanced  # noqa: E402

TRAIN_IMAGES = 55_000  # MNIST training split minus the 5,000 validation images


def measurement_seconds(generator, judge, real, per_class: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        score(real, embed(judge, *class_balanced(generator, per_class)), generator.num_classes, per_class=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="mnist_conv")
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batches", type=int, default=40)
    args = parser.parse_args()
    cfg = load_cfg(args.experiment, "/tmp/gan-bench")
    _, model = build(cfg, 1)
    judge = load_judge("mnist")
    t0 = time.perf_counter()
    real = embed(judge, *real_subset("mnist", "test", args.per_class))
    setup = time.perf_counter() - t0
    measure = measurement_seconds(model.g_ema.eval(), judge, real, args.per_class, args.repeats)
    epoch = TRAIN_IMAGES / lightning_rate(cfg, args.batches)
    print(f"\n{args.experiment}, {args.per_class} samples per class, {torch.get_num_threads()} threads\n")
    print("| step | seconds | share of an epoch |\n| --- | ---: | ---: |")
    print(f"| one training epoch (from {args.batches} timed batches) | {epoch:.1f} | 100% |")
    print(f"| metrics measurement | {measure:.2f} | {measure / epoch:.1%} |")
    print(f"| real features, once per fit | {setup:.2f} | {setup / epoch:.1%} |")


if __name__ == "__main__":
    main()
