"""Which real images does a generator's recall miss? Recall per class, beside the real floor.

Recall is the share of real test images inside some generated image's k-NN ball (judge features,
as `gan.evaluate`); here it is split by class, and the floor (a real training subset of the same
size) is split the same way, so the table shows where the generator falls short of real data.
With --missed, a PNG gets one row per class of test images the generator misses and the floor
covers (`SAMPLES` of each, or fewer).

    python benchmarks/recall_by_class.py [SOURCE] [--seeds 0 1 2] [--per-class 1000] [--missed missed.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gan import load_generator  # noqa: E402
from gan.evaluate import embedded_sets, infer_dataset  # noqa: E402
from gan.images import grid_image  # noqa: E402
from gan.judge import load_judge  # noqa: E402
from gan.metrics import covered, real_subset  # noqa: E402
from gan.sampling import class_balanced  # noqa: E402

SAMPLES = 16


def coverage(generator, judge, dataset: str, per_class: int, seed: int):
    """Labels of the test images `gan.evaluate` scores, and which of them the generator's and
    the floor's balls cover."""
    real, fake, floor = embedded_sets(generator, dataset, per_class, seed, judge)
    return real.labels, covered(real.features, fake.features), covered(real.features, floor.features)


def missed_rows(images, labels, by_gen, by_floor, num_classes: int) -> torch.Tensor:
    """Up to SAMPLES test images per class that the floor covers and the generator does not,
    padded with blank (-1) images so each class fills one row."""
    rows = []
    for c in range(num_classes):
        picked = images[(labels == c) & by_floor & ~by_gen][:SAMPLES]
        blank = -torch.ones(SAMPLES - len(picked), *images.shape[1:])
        rows.append(torch.cat([picked, blank]))
    return torch.cat(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", default="mnist")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--per-class", type=int, default=1000)
    parser.add_argument("--missed", default=None, help="PNG of missed test images (first seed)")
    args = parser.parse_args()
    generator = load_generator(args.source)
    dataset = infer_dataset(generator.class_names, generator.img_shape)
    judge, k = load_judge(dataset), generator.num_classes
    gen, floor = torch.zeros(k), torch.zeros(k)
    for i, seed in enumerate(args.seeds):
        labels, by_gen, by_floor = coverage(generator, judge, dataset, args.per_class, seed)
        for c in range(k):
            gen[c] += by_gen[labels == c].float().mean() / len(args.seeds)
            floor[c] += by_floor[labels == c].float().mean() / len(args.seeds)
        if i == 0 and args.missed:  # the same seeded test subset, now as pictures
            images, _ = real_subset(dataset, "test", args.per_class, seed)
            grid_image(missed_rows(images, labels, by_gen, by_floor, k), SAMPLES, scale=2).save(args.missed)
    print(f"{args.source} ({dataset}): recall per class, {args.per_class} per class, "
          f"seeds {' '.join(map(str, args.seeds))} (mean)\n")
    print("| class | generator | real floor | gap |\n| --- | ---: | ---: | ---: |")
    for c, name in enumerate(generator.class_names):
        print(f"| {name} | {gen[c]:.3f} | {floor[c]:.3f} | {floor[c] - gen[c]:+.3f} |")
    if args.missed:
        print(f"\nwrote {args.missed}")


if __name__ == "__main__":
    main()
