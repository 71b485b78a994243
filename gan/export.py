"""The one export format: a `from_pretrained` folder with samples and a model card.

    <folder>/config.json        generator constructor arguments (PyTorchModelHubMixin)
    <folder>/model.safetensors  EMA generator weights
    <folder>/card.json          facts: dataset, training command, epochs, metrics
    <folder>/README.md          human-readable model card rendered from card.json
    <folder>/samples.png        one row per class, fixed noise
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch

from gan.images import grid_image, save_png
from gan.limits import LOAD
from gan.nets import Generator

CARD_FILE = "card.json"
FACT_KEYS = ("dataset", "arch", "architecture", "loss", "epochs", "steps", "command", "selected")
# Markdown/HTML syntax a card value may not use: no raw HTML (an <img> is a tracking pixel),
# no images or links, no emphasis; "|" and "-" stay so tables keep working.
MARKDOWN_SPECIAL = "\\`*_{}[]()#+!<>~"


@torch.no_grad()
def class_rows(generator: Generator, per_class: int = 8, seed: int = 0) -> torch.Tensor:
    """(K * per_class, C, H, W): row k holds `per_class` samples of class k, fixed seeded noise."""
    device = next(generator.parameters()).device
    rng = torch.Generator().manual_seed(seed)
    z = torch.randn(per_class, generator.latent_dim, generator=rng).repeat(generator.num_classes, 1)
    labels = torch.arange(generator.num_classes).repeat_interleave(per_class)
    was_training = generator.training
    generator.eval()
    images = generator(z.to(device), labels.to(device))
    generator.train(was_training)
    return images.cpu()


def samples_image(generator: Generator, per_class: int = 8, seed: int = 0, scale: int = 2):
    return grid_image(class_rows(generator, per_class, seed), nrow=per_class, scale=scale)


def plain(value) -> str:
    """`value` as Markdown that renders as the same plain text: HTML and Markdown syntax escaped."""
    text = str(value).replace("&", "&amp;").replace("\r", " ")
    return "".join(f"\\{c}" if c in MARKDOWN_SPECIAL else c for c in text)


def card_facts(card: dict) -> list[str]:
    """Markdown tables of the card's facts and metrics (the model card and the app show these);
    every value from the card is escaped (`plain`)."""
    lines = ["| fact | value |", "| --- | --- |"]
    lines += [f"| {key} | {plain(card[key])} |" for key in FACT_KEYS if card.get(key) is not None]
    metrics = card.get("metrics") if isinstance(card.get("metrics"), dict) else {}
    if metrics:
        lines += ["", "## Metrics", "", "| metric | value |", "| --- | --- |"]
        lines += [f"| {plain(k)} | {v:.4g} |" if isinstance(v, float) else f"| {plain(k)} | {plain(v)} |"
                  for k, v in metrics.items()]
    if card.get("evaluation"):
        lines += ["", "## Evaluation (`python -m gan.evaluate`)", "", plain(card["evaluation"])]
    return lines


def card_markdown(card: dict, source: str, generator: Generator) -> str:
    """What the app shows about a loaded generator: title, source, classes and the card's facts."""
    names = ", ".join(plain(name) for name in generator.class_names)
    return "\n".join([f"**{plain(card.get('title', 'Generator'))}** — {plain(source)}", "",
                      f"{plain(generator.arch)}, latent {generator.latent_dim}, classes: {names}", "",
                      *card_facts(card)])


def render_card(card: dict) -> str:
    lines = ["---", "library_name: cgan-studio", "tags: [gan, conditional-gan, pytorch]", "---", "",
             f"# {card.get('title', 'Conditional GAN generator')}", "",
             "![samples](samples.png)", "", *card_facts(card)]
    lines += ["", "Load it with `gan.load_generator(\"<this folder>\")`."]
    return "\n".join(lines) + "\n"


def export_generator(generator: Generator, folder: str | Path, card: dict) -> Path:
    """Write the export folder atomically (a temp folder renamed into place)."""
    folder = Path(folder)
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    generator = generator.eval()
    generator.save_pretrained(tmp)
    save_png(samples_image(generator), tmp / "samples.png")
    (tmp / CARD_FILE).write_text(json.dumps(card, indent=2, default=str))
    (tmp / "README.md").write_text(render_card(card))
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
