"""The Gradio layer: layout and event wiring only; all work happens in the `gan` core."""

from __future__ import annotations

import gradio as gr

from gan.limits import CACHE_AGE_S, CACHE_SWEEP_S, mode_line
from gan.ui.generate import build_generate_tab
from gan.ui.session import build_session
from gan.ui.train import build_train_tab

# Requests waiting beyond this are refused with "queue full" instead of piling up without bound.
QUEUE_SIZE = 256


def build_app() -> gr.Blocks:
    # delete_cache: Gradio's per-call files (PNGs of /generate, ...) do not pile up on disk
    with gr.Blocks(title="cGAN Studio", delete_cache=(CACHE_SWEEP_S, CACHE_AGE_S)) as demo:
        gr.Markdown(f"# cGAN Studio\n{mode_line()}", elem_id="mode")
        session = build_session()
        with gr.Tabs() as tabs:
            with gr.Tab("Generate", id="generate"):
                generate = build_generate_tab(session)
            with gr.Tab("Train", id="train"):
                build_train_tab(generate, tabs, session)
    demo.queue(max_size=QUEUE_SIZE)
    return demo
