"""`python -m gan.evaluate SOURCE`: score a generator with the dataset's judge, beside the real floor.

SOURCE is anything `gan.load_generator` takes (export folder, bundled name, hf:/wandb: refs).
The generator is scored on a seeded, class-balanced budget against the real test split; the
"real floor" scores a seeded real training subset of the same size the same way.
Prints a markdown table and writes JSON (default `<SOURCE folder>/metrics.json`, or ./metrics.json).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gan import load_generator
from gan.data import dataset_info
from gan.export import CARD_FILE, read_card, render_card
from gan.judge import load_judge
from gan.metrics import embed, real_subset, score
from gan.quality import SUMMARY
from gan.sampling import class_balanced



def infer_dataset(class_names: list[str]) -> str:
    """The dataset whose class names the generator carries (generators do not store it otherwise)."""
    for name in ("mnist", "fashion_mnist"):
        if list(class_names) == list(dataset_info(name).class_names):
            return name
    raise ValueError(f"cannot tell the dataset from class names {class_names}; pass --dataset")


def evaluate(generator, dataset: str, per_class: int = 1000, seed: int = 0, judge=None) -> dict:
    """Metrics of `generator` and of the real floor, both against the real test split.

    All three sets hold up to `per_class` images per class (the test split has 892-1,135 per
    class), so k-NN precision/recall compare sets of about the same size.
    """
    judge = judge or load_judge(dataset)
    k = generator.num_classes
    real = embed(judge, *real_subset(dataset, "test", per_class, seed))
    fake = embed(judge, *class_balanced(generator, per_class, seed))
    floor = embed(judge, *real_subset(dataset, "train", per_class, seed))
    return {"dataset": dataset, "per_class": per_class, "seed": seed,
            "class_names": list(generator.class_names),
            "generator": score(real, fake, k), "real_floor": score(real, floor, k)}


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
    parser.add_argument("--dataset", choices=["mnist", "fashion_mnist"], default=None)
    parser.add_argument("--per-class", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="output JSON path")
    parser.add_argument("--card", action="store_true",
                        help="also write the table into SOURCE's card.json and README.md (local folders)")
    args = parser.parse_args(argv)
    generator = load_generator(args.source)
    result = evaluate(generator, args.dataset or infer_dataset(generator.class_names),
                      args.per_class, args.seed)
    print(report(result))
    out = Path(args.json) if args.json else default_json_path(args.source)
    out.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {out}")
    if args.card:
        update_card(Path(args.source), generator, result)


if __name__ == "__main__":
    main()
