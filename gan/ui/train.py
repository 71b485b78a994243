"""Train tab (placeholder until the Train-tab issue lands)."""

from __future__ import annotations

import gradio as gr

from gan.ui.generate import GenerateTab


def build_train_tab(generate: GenerateTab, tabs: gr.Tabs) -> None:
    gr.Markdown("Training from the browser is coming.")
