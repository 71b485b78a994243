"""Nearest real images: the one-time cost of a dataset's feature index and the cost of a query.

Builds the index from scratch into a temporary cache folder (the app's own cache is not
touched), then times `gan.nearest.find` for a generated image. Prints a markdown table.

    python benchmarks/nearest_index.py [--dataset mnist] [--threads 1] [--queries 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gan import load_generator, nearest, sampling  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--source", default=None, help="generator for the queries (default: the bundled one)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the app serves with 1)")
    parser.add_argument("--queries", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    g = load_generator(args.source or args.dataset.replace("_", "-"))
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        index = nearest.load_index(args.dataset, cache_dir=cache)
        build_s = time.perf_counter() - t0
        (path,) = Path(cache).glob("nearest/*.pt")
        size_mb = path.stat().st_size / 1e6
        times = []
        for seed in range(args.queries):
            image = sampling.sample(g, sampling.View(label=seed % g.num_classes, seed=seed))[0][0]
            t0 = time.perf_counter()
            nearest.find(args.dataset, image, cache_dir=cache)
            times.append(time.perf_counter() - t0)
    print(f"\nNearest-image index of {args.dataset}: {len(index.features):,} training images, "
          f"{index.features.shape[1]}-d judge features, torch {args.threads} thread(s)\n")
    print("| build s (once) | file MB | query p50 ms | typical NN distance (5/50/95%) |")
    print("| ---: | ---: | ---: | --- |")
    low, median, high = index.typical
    print(f"| {build_s:.1f} | {size_mb:.1f} | {statistics.median(times[1:]) * 1000:.0f} "
          f"| {low:.2f} / {median:.2f} / {high:.2f} |")


if __name__ == "__main__":
    main()
