"""The Gradio layer: layout and event wiring only; all work happens in the `gan` core."""

from __future__ import annotations

import gradio as gr

from gan.ui.generate import build_generate_tab
from gan.ui.train import build_train_tab

# Requests waiting beyond this are refused with "queue full" instead of piling up without bound.
QUEUE_SIZE = 256


def build_app() -> gr.Blocks:
    with gr.Blocks(title="cGAN Studio") as demo:
        gr.Markdown("# cGAN Studio")
        with gr.Tabs() as tabs:
            with gr.Tab("Generate", id="generate"):
                generate = build_generate_tab()
            with gr.Tab("Train", id="train"):
                build_train_tab(generate, tabs)
    demo.queue(max_size=QUEUE_SIZE)
    return demo
