"""The checkpoint panel: pick a source (it loads on pick), see what it is and how good it is.

The card (title, quality, facts) is markdown; the per-class accuracy chart is SVG beside it.
"""

from __future__ import annotations

import gradio as gr

from gan import checkpoints, quality, runs
from gan.charts import class_bars
from gan.export import card_facts

DEFAULT_SOURCE = "mnist"
SOURCE_INFO = ("bundled name, run folder, .ckpt, hf:owner/repo[@rev], wandb:entity/project/artifact:alias; "
               "a picked source loads at once")


def source_choices() -> list[str]:
    return checkpoints.bundled_names() + checkpoints.local_runs(runs.default_root())


def card_markdown(ckpt: checkpoints.Checkpoint) -> str:
    """Title and shape, the one set of quality numbers, then the card's facts."""
    g = ckpt.generator
    params = sum(p.numel() for p in g.parameters())
    head = (f"**{ckpt.card.get('title', 'Generator')}** — `{ckpt.source}` · {g.arch}, latent "
            f"{g.latent_dim}, {g.num_classes} classes, {tuple(g.img_shape)} images, {params:,} parameters")
    facts = "\n".join(card_facts(ckpt.card))
    return "\n\n".join([head, quality.markdown(quality.read(ckpt.path, ckpt.card)),
                        f"<details><summary>Model card facts</summary>\n\n{facts}\n\n</details>"])


def chart_html(source: str) -> str:
    """The per-class chart of the evaluation, or a line saying there is none."""
    try:
        ckpt = checkpoints.load_checkpoint(source)
    except checkpoints.CheckpointError:
        return ""
    q = quality.read(ckpt.path, ckpt.card)
    if q is None or not q.per_class:
        return "<p>No per-class evaluation for this generator (<code>python -m gan.evaluate SOURCE --card</code>).</p>"
    return class_bars(q.per_class)


def build_source_row() -> tuple[gr.Dropdown, gr.Button]:
    with gr.Row(equal_height=False):
        source = gr.Dropdown(source_choices(), value=DEFAULT_SOURCE, allow_custom_value=True,
                             label="Checkpoint", scale=5, info=SOURCE_INFO, elem_id="source")
        load = gr.Button("Load", variant="primary", scale=1, min_width=80)
        refresh = gr.Button("↻ Runs", scale=1, min_width=80)
    refresh.click(lambda: gr.Dropdown(choices=source_choices()), outputs=source, api_visibility="private")
    return source, load


def build_quality(ckpt: checkpoints.Checkpoint | None) -> tuple[gr.Markdown, gr.HTML]:
    with gr.Row(equal_height=False):
        card = gr.Markdown(card_markdown(ckpt) if ckpt else "No bundled generator found.",
                           elem_id="card")
        chart = gr.HTML(chart_html(ckpt.source) if ckpt else "", elem_id="class-chart",
                        min_height=180)
    return card, chart
