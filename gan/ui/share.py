"""Share and restore a view: "Copy link" (query parameters) and a drop zone for PNGs made here.

Both go through `restore`, which loads the recipe's source when it is not the one loaded,
checks every value against that generator, and only then sets the controls (a bad link or PNG
changes nothing). The picture re-renders through the controls' own change events.
"""

from __future__ import annotations

import gradio as gr

from gan import checkpoints, recipe
from gan.card_text import plain
from gan.recipe import Recipe

COPY_JS = """(query) => {
  const link = query ? location.origin + location.pathname + "?" + query : "";
  if (link && navigator.clipboard) navigator.clipboard.writeText(link).catch(() => {});
  return link;
}"""


def link_query(source: str, controls: dict) -> str:
    return recipe.query(Recipe.from_controls(source, controls))


def restore(wanted: Recipe, loaded: str, owner: str | None) -> tuple[checkpoints.Checkpoint, Recipe]:
    """The checkpoint (loaded as the Load button would, for `owner`) and the complete recipe to
    show; raises before anything changes.

    Raises:
        CheckpointError, ValueError: a source that does not load, a value it does not accept.
    """
    ckpt = checkpoints.load_checkpoint(wanted.source or loaded, owner=owner)
    full = wanted.filled(ckpt.generator)
    full.view(ckpt.generator)  # every value checked against this generator
    if wanted.model and wanted.model != recipe.weights_digest(ckpt.generator):
        gr.Warning(f"This picture was made by other weights than {plain(ckpt.source)} has now "
                   "(they were retrained or replaced), so it may look different.",
                   title="Different weights")
    return ckpt, full


def build_link() -> tuple[gr.Button, gr.Textbox]:
    with gr.Row(equal_height=True):
        copy = gr.Button("Copy link", scale=1, min_width=100, elem_id="copy-link")
        link = gr.Textbox(label="Link to this view", placeholder="press Copy link", scale=4,
                          elem_id="link", buttons=["copy"], interactive=False)
    return copy, link


def build_drop() -> gr.Image:
    return gr.Image(label="Restore a view: drop a PNG made here (the ⤓ button on the picture saves one)",
                    sources=["upload"], type="filepath", height=140, elem_id="drop", buttons=[])
