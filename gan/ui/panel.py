"""The checkpoint panel: pick a source (it loads on pick), see what it is and how good it is.

The card (title, quality, facts) is markdown; the per-class accuracy chart is SVG beside it.
"""

from __future__ import annotations

import gradio as gr

from gan import checkpoints, export, quality, runs
from gan.charts import class_bars
from gan.ui.session import who

DEFAULT_SOURCE = "mnist"
SOURCE_INFO = ("bundled name, run:<id>, hf:owner/repo[@rev], wandb:entity/project/artifact:alias; in local "
               "mode also a run folder, export folder or .ckpt. A picked source loads at once")


def refresh_sources(request: gr.Request, owner: str | None):
    return gr.Dropdown(choices=runs.checkpoint_sources(who(owner, request)))


def card_markdown(ckpt: checkpoints.Checkpoint) -> str:
    """Title and shape, the one set of quality numbers, then the card's facts."""
    return export.card_markdown(ckpt.card, ckpt.source, ckpt.generator,
                                quality.markdown(quality.read(ckpt.path, ckpt.card)))


def chart_html(request: gr.Request, owner: str | None, source: str) -> str:
    """The per-class chart of the evaluation, or a line saying there is none."""
    try:
        ckpt = checkpoints.load_checkpoint(source, fetch=False, owner=who(owner, request))
    except checkpoints.CheckpointError:
        return ""
    return chart_of(ckpt)


def chart_of(ckpt: checkpoints.Checkpoint) -> str:
    q = quality.read(ckpt.path, ckpt.card)
    if q is None or not q.per_class:
        return "<p>No per-class evaluation for this generator (<code>python -m gan.evaluate SOURCE --card</code>).</p>"
    return class_bars(q.per_class)


def build_source_row() -> tuple[gr.Dropdown, gr.Button, gr.Button]:
    with gr.Row(equal_height=False):
        source = gr.Dropdown(runs.checkpoint_sources(), value=DEFAULT_SOURCE, allow_custom_value=True,
                             label="Checkpoint", scale=5, info=SOURCE_INFO, elem_id="source")
        load = gr.Button("Load", variant="primary", scale=1, min_width=80)
        refresh = gr.Button("↻ Runs", scale=1, min_width=80)
    return source, load, refresh


def build_quality(ckpt: checkpoints.Checkpoint | None) -> tuple[gr.Markdown, gr.HTML]:
    with gr.Row(equal_height=False):
        card = gr.Markdown(card_markdown(ckpt) if ckpt else "No bundled generator found.",
                           elem_id="card")
        chart = gr.HTML(chart_of(ckpt) if ckpt else "", elem_id="class-chart",
                        min_height=180)
    return card, chart
