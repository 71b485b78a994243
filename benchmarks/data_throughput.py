"""Is training ever data-bound? The loader's images/s (decoded images from the cache) next to the
training step's images/s, for one experiment and one or more models.

Rows:
- decode: the first read of the training split, decoding every image into a fresh cache (once
  per dataset and setting; the figure a person waits for once);
- cache load: reading that cache back (every later run starts with this);
- loader: iterating the DataModule's train loader (uint8 -> [-1, 1] per batch), what an epoch costs
  on top of the step;
- one row per model: the bare D + G training step with that model (`train_throughput.bare_rate`,
  data loading included).

    python benchmarks/data_throughput.py [--experiment cifar10] [--models conv,resnet]
                                         [--batches 30] [--rounds 3] [--batch-size 64] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from hydra.utils import instantiate

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from train_throughput import bare_rate, load_cfg  # noqa: E402

from gan.data import DataSource  # noqa: E402


def read_seconds(cfg, cache_dir: str) -> tuple[float, int]:
    """Seconds to read the training split through a DataSource with `cache_dir`, and its size."""
    source = DataSource(cfg.data.dataset, path=cfg.data.get("path"), image_size=cfg.data.get("image_size"),
                        channels=cfg.data.get("channels"), cache_dir=cache_dir)
    start = time.perf_counter()
    _, labels = source.load("train")
    return time.perf_counter() - start, len(labels)


def loader_rate(dm, rounds: int) -> float:
    rates = []
    for _ in range(rounds):
        start, n = time.perf_counter(), 0
        for images, _ in dm.train_dataloader():
            n += len(images)
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="cifar10")
    parser.add_argument("--models", default="conv", help="comma-separated model configs")
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    models = args.models.split(",")
    cfg = load_cfg(args.experiment, "/tmp/gan-bench", args.batch_size, [f"model={models[0]}"])
    with tempfile.TemporaryDirectory() as fresh:
        decode_s, n = read_seconds(cfg, fresh)
    read_seconds(cfg, None)  # make sure the default cache holds it
    load_s, _ = read_seconds(cfg, None)
    dm = instantiate(cfg.data, _convert_="all")
    dm.setup()
    rows = [("decode into a fresh cache (once)", n / decode_s), ("load the cache", n / load_s),
            ("train loader, one epoch", loader_rate(dm, args.rounds))]
    for model in models:
        model_cfg = load_cfg(args.experiment, "/tmp/gan-bench", args.batch_size, [f"model={model}"])
        rate = statistics.median(bare_rate(model_cfg, args.batches) for _ in range(args.rounds))
        rows.append((f"training step, model={model}", rate))
    print(f"\n{args.experiment}: {n:,} training images of {dm.img_shape}, batch {args.batch_size}, "
          f"{torch.get_num_threads()} threads (median of {args.rounds})\n")
    print("| stage | images/s |\n| --- | ---: |")
    for name, rate in rows:
        print(f"| {name} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
