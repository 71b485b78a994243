"""The one export format: a `from_pretrained` folder with samples and a model card.

    <folder>/config.json        generator constructor arguments (PyTorchModelHubMixin)
    <folder>/model.safetensors  EMA generator weights (float32; parameters float16 with --half)
    <folder>/card.json          facts: dataset, training command, epochs, metrics
    <folder>/README.md          human-readable model card rendered from card.json
    <folder>/samples.png        one row per class, fixed noise
"""

from __future__ import annotations

import json
import os
import shutil
from copy import deepcopy
from pathlib import Path

import torch

from gan import quality
from gan.card_text import plain
from gan.images import save_png, view_image
from gan.limits import LOAD
from gan.nets import Generator
from gan.sampling import class_rows, standing_stats

CARD_FILE = "card.json"
FACT_KEYS = ("dataset", "arch", "architecture", "loss", "epochs", "steps", "command", "selected", "weights")
WEIGHTS_FILE = "model.safetensors"
HALF = "float16 parameters, loaded as float32"


def samples_image(generator: Generator, per_class: int = 8, seed: int = 0):
    """samples.png: the app's "one row per class" at `seed`, drawn exactly as the app draws it."""
    return view_image(class_rows(generator, per_class, seed), nrow=per_class)


def card_facts(card: dict) -> list[str]:
    """The card's facts as a markdown list (a list, not a table: a long command cannot squeeze
    the names into breaking mid-word); every value from the card is escaped (`plain`)."""
    return [f"- **{key}**: {plain(card[key])}" for key in FACT_KEYS if card.get(key) is not None]


def card_quality(card: dict) -> list[str]:
    """The evaluation, then the training-time measurements labelled as such (losses left out)."""
    lines = []
    if card.get("evaluation"):
        lines += ["## Evaluation (`python -m gan.evaluate`)", "", plain(card["evaluation"]), ""]
    metrics = card.get("metrics") if isinstance(card.get("metrics"), dict) else {}
    training = quality.from_training(metrics, hint=not card.get("evaluation"))
    if training:
        lines += [f"## {training.title}", "", training.note, "", quality.table(training), ""]
    return lines


def card_markdown(card: dict, source: str, generator: Generator, quality_text: str = "") -> str:
    """What the app shows about a loaded generator: title and shape, its quality (`quality_text`,
    gan.quality's markdown), then the card's facts, folded; every value from the card escaped."""
    params = sum(p.numel() for p in generator.parameters())
    head = (f"**{plain(card.get('title', 'Generator'))}** — {plain(source)} · {plain(generator.arch)}, "
            f"latent {generator.latent_dim}, {generator.num_classes} classes, "
            f"{tuple(generator.img_shape)} images, {params:,} parameters")
    facts = "\n".join(card_facts(card))
    return "\n\n".join([head, quality_text, f"<details><summary>Model card facts</summary>\n\n{facts}\n\n</details>"])


def render_card(card: dict) -> str:
    lines = ["---", "library_name: cgan-studio", "tags: [gan, conditional-gan, pytorch]", "---", "",
             f"# {card.get('title', 'Conditional GAN generator')}", "",
             "![samples](samples.png)", "", *card_facts(card), "", *card_quality(card)]
    lines += ["", "Load it with `gan.load_generator(\"<this folder>\")`."]
    return "\n".join(lines) + "\n"


def half_rounded(generator: Generator) -> Generator:
    """A copy whose parameters are rounded to float16 and kept float32: the generator a `half`
    export loads as, so its samples.png shows what a user gets. Buffers (batch-norm statistics)
    stay as they are. Refuses weights beyond float16's range rather than storing infinities."""
    copy = deepcopy(generator)
    with torch.no_grad():
        for name, p in copy.named_parameters():
            rounded = p.half()
            if not torch.isfinite(rounded).all():
                raise ValueError(f"--half: {name} has values beyond float16's range "
                                 f"(|x| > {torch.finfo(torch.float16).max:,.0f}); export in float32")
            p.copy_(rounded)
    return copy


def save_half(generator: Generator, path: Path) -> None:
    """`generator`'s state with its parameters stored as float16 (half the file); the one loader
    copies them into float32 tensors (`load_state_dict` casts)."""
    from safetensors.torch import save_file

    params = {name for name, _ in generator.named_parameters()}
    state = {k: (v.half() if k in params else v).contiguous() for k, v in generator.state_dict().items()}
    save_file(state, path, metadata={"format": "pt"})


def export_generator(generator: Generator, folder: str | Path, card: dict, in_place: bool = False,
                     half: bool = False) -> Path:
    """Write the export folder atomically: a temp folder renamed into place, or with `in_place`
    (a folder rewritten while others load it: a run's live snapshot) file by file, each replaced
    atomically, so a reader never finds the folder missing or a file half-written. `half` stores
    the parameters as float16: a file half the size, for bundling (the card says so)."""
    folder = Path(folder)
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    generator = half_rounded(generator.eval()) if half else generator.eval()
    card = {**card, "weights": HALF} if half else {k: v for k, v in card.items() if k != "weights"}
    generator.save_pretrained(tmp)
    if half:
        save_half(generator, tmp / WEIGHTS_FILE)
    save_png(samples_image(generator), tmp / "samples.png")
    (tmp / CARD_FILE).write_text(json.dumps(card, indent=2, default=str))
    (tmp / "README.md").write_text(render_card(card))
    if in_place:
        folder.mkdir(exist_ok=True)
        for path in tmp.iterdir():
            path.replace(folder / path.name)
        tmp.rmdir()
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    tmp.replace(folder)
    return folder


def read_card(folder: str | Path) -> dict:
    """card.json as a dict; {} when it is missing, not a JSON object, or larger than
    `gan.limits.LOAD.card_bytes`."""
    path = Path(folder) / CARD_FILE
    try:
        if path.stat().st_size > LOAD.card_bytes:
            return {}
        card = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return card if isinstance(card, dict) else {}


def main(argv: list[str] | None = None) -> None:
    """`python -m gan.export SOURCE FOLDER`: a Lightning checkpoint's EMA generator (or any source
    `gan.checkpoints.load_checkpoint` takes) as an export folder, as the bundled generators are
    made from a long, resumed run. `--standing-stats` recomputes its batch-norm statistics, for
    runs trained before exports did so."""
    import argparse

    from gan.checkpoints import load_checkpoint

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("ckpt", help="a run's checkpoints/<name>.ckpt, or an export folder")
    parser.add_argument("folder", help="export folder to write (replaced if it exists)")
    parser.add_argument("--title", help="model card title")
    parser.add_argument("--command", help="how it was trained, for the card")
    parser.add_argument("--standing-stats", action="store_true",
                        help="recompute the batch-norm statistics (gan.sampling.standing_stats)")
    parser.add_argument("--half", action="store_true",
                        help="store the parameters as float16: half the file, loaded as float32")
    args = parser.parse_args(argv)
    ckpt = load_checkpoint(args.ckpt)
    card = {**ckpt.card, **{k: v for k, v in (("title", args.title), ("command", args.command)) if v}}
    generator = standing_stats(ckpt.generator) if args.standing_stats else ckpt.generator
    print(f"exported {export_generator(generator, args.folder, card, half=args.half)}")


if __name__ == "__main__":
    main()
