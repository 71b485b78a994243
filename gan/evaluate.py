"""`python -m gan.evaluate SOURCE`: score a generator with the dataset's judge, beside the real floor.

SOURCE is anything `gan.load_generator` takes (export folder, bundled name, hf:/wandb: refs).
The generator is scored on a seeded, class-balanced budget against the real test split; the
"real floor" scores a seeded real training subset of the same size the same way.
Prints a markdown table and writes JSON (default `<SOURCE folder>/metrics.json`, or ./metrics.json).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gan import load_generator
from gan.datasets import fixed_datasets
from gan.export import CARD_FILE, read_card, render_card
from gan.judge import load_judge
from gan.metrics import embed, real_subset, score
from gan.quality import SUMMARY
from gan.sampling import class_balanced



def shape_fits(img_shape, native) -> bool:
    """Same channels, square, and the dataset's size or a whole multiple of it (the judge then
    average-pools it down exactly: a cifar10 generator at 64 px is scored at 32 px)."""
    c, h, w = tuple(img_shape)
    return c == native[0] and h == w and h % native[1] == 0


def infer_dataset(class_names: list[str], img_shape) -> str:
    """The registry dataset whose class names and image shape the generator carries."""
    for spec in fixed_datasets():
        if list(class_names) == list(spec.class_names) and shape_fits(img_shape, spec.img_shape):
            return spec.name
    known = ", ".join(f"{s.name} {s.img_shape}" for s in fixed_datasets())
    raise ValueError(f"no judge scores this generator: its classes ({', '.join(class_names[:5])}"
                     f"{', ...' if len(class_names) > 5 else ''}) and shape {tuple(img_shape)} match no "
                     f"dataset with fixed classes ({known}); image-folder datasets have no judge. "
                     "Pass --dataset to force one.")


def evaluate(generator, dataset: str, per_class: int = 1000, seed: int = 0, judge=None) -> dict:
    """Metrics of `generator` and of the real floor, both against the real test split.

    All three sets hold up to `per_class` images per class (the test split has 892-1,135 per
    class), so k-NN precision/recall compare sets of about the same size.
    """
    real, fake, floor = embedded_sets(generator, dataset, per_class, seed, judge)
    k = generator.num_classes
    return {"dataset": dataset, "per_class": per_class, "seed": seed,
            "class_names": list(generator.class_names),
            "generator": score(real, fake, k), "real_floor": score(real, floor, k)}


def embedded_sets(generator, dataset: str, per_class: int, seed: int, judge=None):
    """The judge's view of the three sets `evaluate` scores: (test split, generator, real floor)."""
    judge = judge or load_judge(dataset)
    return (embed(judge, *real_subset(dataset, "test", per_class, seed)),
            embed(judge, *class_balanced(generator, per_class, seed)),
            embed(judge, *real_subset(dataset, "train", per_class, seed)))


def summary_table(result: dict) -> str:
    lines = ["| metric | generator | real floor |", "| --- | ---: | ---: |"]
    for key, name, fmt in SUMMARY:
        lines.append(f"| {name} | {fmt.format(result['generator'][key])} "
                     f"| {fmt.format(result['real_floor'][key])} |")
    return "\n".join(lines)


def per_class_table(result: dict) -> str:
    g, r = result["generator"], result["real_floor"]
    lines = ["| class | accuracy | floor | Frechet distance | floor |", "| --- | ---: | ---: | ---: | ---: |"]
    for c, name in enumerate(result["class_names"]):
        lines.append(f"| {name} | {g['class_acc_per_class'][c]:.2%} | {r['class_acc_per_class'][c]:.2%} "
                     f"| {g['fid_per_class'][c]:.3f} | {r['fid_per_class'][c]:.3f} |")
    return "\n".join(lines)


def report(result: dict) -> str:
    head = (f"{result['dataset']}: {result['per_class']} samples per class (seed {result['seed']}) "
            f"vs the real test split; real floor = real training subset of the same size.")
    return "\n\n".join([head, summary_table(result), per_class_table(result)])


def describe(generator) -> str:
    params = sum(p.numel() for p in generator.parameters())
    return (f"{generator.arch} generator, latent {generator.latent_dim}, {generator.num_classes} classes, "
            f"image {tuple(generator.img_shape)}, {params:,} parameters")


def update_card(folder: Path, generator, result: dict) -> None:
    """Put the evaluation table and an architecture line into the folder's model card."""
    card = read_card(folder)
    card.update(architecture=describe(generator), evaluation=report(result))
    (folder / CARD_FILE).write_text(json.dumps(card, indent=2, default=str))
    (folder / "README.md").write_text(render_card(card))


def default_json_path(source: str) -> Path:
    folder = Path(source)
    return folder / "metrics.json" if folder.is_dir() else Path("metrics.json")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Score a generator with the judge; print a table, write JSON.")
    parser.add_argument("source", help="export folder, bundled name (mnist, fashion-mnist), hf:..., wandb:...")
    parser.add_argument("--dataset", choices=[s.name for s in fixed_datasets()], default=None,
                        help="default: told from the generator's class names and image shape")
    parser.add_argument("--per-class", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="output JSON path")
    parser.add_argument("--card", action="store_true",
                        help="also write the table into SOURCE's card.json and README.md (local folders)")
    args = parser.parse_args(argv)
    generator = load_generator(args.source)
    try:
        dataset = args.dataset or infer_dataset(generator.class_names, generator.img_shape)
        result = evaluate(generator, dataset, args.per_class, args.seed)
    except (FileNotFoundError, ValueError) as e:  # no judge, or one that cannot take these images
        sys.exit(f"gan.evaluate: {e}")
    print(report(result))
    out = Path(args.json) if args.json else default_json_path(args.source)
    out.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {out}")
    if args.card:
        update_card(Path(args.source), generator, result)


if __name__ == "__main__":
    main()
