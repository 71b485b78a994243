"""Generate tab (placeholder until the Generate-tab issue lands)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import gradio as gr


@dataclass
class GenerateTab:
    """What other tabs need to drive this one: put a checkpoint source into `source`, then run
    `load` with `inputs=[source, *load_inputs]` and `outputs=load_outputs`."""

    source: gr.Textbox
    load: Callable
    load_inputs: list = field(default_factory=list)
    load_outputs: list = field(default_factory=list)


def build_generate_tab() -> GenerateTab:
    source = gr.Textbox(label="Checkpoint", value="mnist")
    status = gr.Markdown()
    return GenerateTab(source=source, load=lambda s: f"selected {s}", load_outputs=[status])
