"""Generate tab: layout and event wiring; every callback is a few lines over gan.checkpoints,
gan.sampling and gan.images.

Named API endpoints (gradio_client):
    /generate(label, seed, checkpoint="", layout, truncation, label_b, seed_b, t,
              direction_1..direction_4) -> PNG file
    /interpolate(label, seed, label_b, seed_b, checkpoint="", layout, truncation,
                 direction_1..direction_4) -> GIF file (t from 0 to 1)
    /load_checkpoint(source, label, label_b) -> (class, class B, model card markdown)
`checkpoint` "" means the session's loaded checkpoint (the bundled `mnist` at start). /generate
and /interpolate never download: a `checkpoint` there is one this process loaded already, or a
local one; /load_checkpoint (the Load button) is the one place that fetches.
"""

from __future__ import annotations

import functools
import hashlib
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import gradio as gr

from gan import bounded_folder, checkpoints, export, runs, sampling
from gan.images import gif_bytes, view_image
from gan.limits import GIF_BYTES, GIF_FILES
from gan.ui.session import Session, who

DEFAULT_SOURCE = "mnist"
# inside Gradio's cache, so Gradio serves the GIF from here instead of keeping a second copy
GIF_DIR = Path(gr.utils.get_upload_folder()) / "cgan-studio-gifs"
LIVE = {"trigger_mode": "always_last", "show_progress": "hidden"}  # latest value wins, no spinner
# A crowd queues instead of failing: /generate (~2 ms of work) runs two at a time, one per core;
# GIFs (24 frames) and checkpoint loads (may download, computes PCA) one at a time.
GENERATE_CONCURRENCY, HEAVY_CONCURRENCY = 2, 1


@dataclass
class GenerateTab:
    """What other tabs need to drive this one: put a checkpoint source into `source`, then run
    `load` with `inputs=[source, *load_inputs]` and `outputs=load_outputs`; the image re-renders."""

    source: gr.Dropdown
    load: Callable
    load_inputs: list = field(default_factory=list)
    load_outputs: list = field(default_factory=list)
    image: gr.Image | None = None


def clear_errors(fn: Callable) -> Callable:
    """Bad values and bad sources become a gr.Error the page shows; the server keeps serving."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError, checkpoints.CheckpointError) as e:
            raise gr.Error(str(e), print_exception=False) from e
    return wrapper


# ---------------------------------------------------------------- callbacks (thin)


@clear_errors
def generate(request: gr.Request, owner: str | None, loaded: str, label: str, seed: float,
             checkpoint: str = "", layout: str = sampling.LAYOUTS[0], truncation: float = 1.0,
             label_b: str = "", seed_b: float = 1, t: float = 0.0, direction_1: float = 0.0,
             direction_2: float = 0.0, direction_3: float = 0.0, direction_4: float = 0.0):
    g = checkpoints.load_generator(checkpoint or loaded, fetch=False, owner=who(owner, request))
    shifts = (direction_1, direction_2, direction_3, direction_4)
    images, nrow = sampling.sample(
        g, sampling.make_view(g, label, seed, layout, truncation, shifts, label_b, seed_b, t))
    return view_image(images, nrow)


@clear_errors
def interpolate(request: gr.Request, owner: str | None, loaded: str, label: str, seed: float,
                label_b: str, seed_b: float, checkpoint: str = "", layout: str = sampling.LAYOUTS[0],
                truncation: float = 1.0, direction_1: float = 0.0, direction_2: float = 0.0,
                direction_3: float = 0.0, direction_4: float = 0.0) -> str:
    g = checkpoints.load_generator(checkpoint or loaded, fetch=False, owner=who(owner, request))
    shifts = (direction_1, direction_2, direction_3, direction_4)
    frames, nrow = sampling.morph(  # t = 1: class B and seed B are used, so they are checked
        g, sampling.make_view(g, label, seed, layout, truncation, shifts, label_b, seed_b, 1.0))
    data = gif_bytes([view_image(images, nrow) for images in frames])
    name = f"morph-{hashlib.sha1(data).hexdigest()[:16]}.gif"
    return str(bounded_folder.write(GIF_DIR, name, data, GIF_FILES, GIF_BYTES))


def card_markdown(ckpt: checkpoints.Checkpoint) -> str:
    return export.card_markdown(ckpt.card, ckpt.source, ckpt.generator)


@clear_errors
def load_checkpoint(request: gr.Request, source: str, label: str = "", label_b: str = "",
                    owner: str | None = None):
    # an explicit load asks the remote again (at most once a minute)
    ckpt = checkpoints.load_checkpoint(source, refresh=True, owner=who(owner, request))
    sampling.directions(ckpt.generator)  # PCA now, so the first slider drag is already live
    names = ckpt.generator.class_names
    keep = lambda name, fallback: name if name in names else fallback  # noqa: E731
    return (ckpt.source, gr.Dropdown(choices=names, value=keep(label, names[0])),
            gr.Dropdown(choices=names, value=keep(label_b, names[-1])), card_markdown(ckpt))


def refresh_sources(request: gr.Request, owner: str | None):
    return gr.Dropdown(choices=runs.checkpoint_sources(who(owner, request)))


# ---------------------------------------------------------------- layout and wiring


def _default():
    try:
        ckpt = checkpoints.load_checkpoint(DEFAULT_SOURCE)
        sampling.directions(ckpt.generator)
        return ckpt
    except checkpoints.CheckpointError:
        return None


def _view_controls(names: list[str]):
    label = gr.Dropdown(names, value=names[0], label="Class", allow_custom_value=True)
    with gr.Row():
        seed = gr.Number(0, label="Seed", precision=0, minimum=0, maximum=sampling.MAX_SEED, scale=3)
        reseed = gr.Button("Random", scale=1, min_width=80)
    layout = gr.Radio(list(sampling.LAYOUTS), value=sampling.LAYOUTS[0], label="Grid")
    truncation = gr.Slider(0.0, 1.0, value=1.0, step=0.05, label="Truncation (1 = off)")
    with gr.Accordion("Latent directions (PCA, in standard deviations)", open=True):
        shifts = [gr.Slider(-3.0, 3.0, value=0.0, step=0.1, label=f"Direction {i + 1}")
                  for i in range(sampling.NUM_DIRECTIONS)]
    return label, seed, reseed, layout, truncation, shifts


def _interpolation_controls(names: list[str]):
    with gr.Group():
        with gr.Row():
            label_b = gr.Dropdown(names, value=names[-1], label="Class B", allow_custom_value=True)
            seed_b = gr.Number(1, label="Seed B", precision=0, minimum=0, maximum=sampling.MAX_SEED)
        t = gr.Slider(0.0, 1.0, value=0.0, step=0.02, label="Interpolate A → B (t)", elem_id="interp-t")
    animate = gr.Button("Animate A → B (GIF)")
    gif = gr.File(label="Animation", interactive=False)
    return label_b, seed_b, t, animate, gif


def _checkpoint_panel(ckpt: checkpoints.Checkpoint | None):
    with gr.Accordion("Checkpoint", open=True):
        with gr.Row():
            source = gr.Dropdown(runs.checkpoint_sources(), value=DEFAULT_SOURCE, allow_custom_value=True,
                                 label="Source", scale=4,
                                 info="bundled name, run:<id>, hf:owner/repo[@rev], "
                                      "wandb:entity/project/artifact:alias; in local mode also "
                                      "a run folder, export folder or .ckpt")
            load = gr.Button("Load", variant="primary", scale=1)
            refresh = gr.Button("↻ Runs", scale=1)
        card = gr.Markdown(card_markdown(ckpt) if ckpt else "No bundled generator found.")
    return source, load, refresh, card


def build_generate_tab(session: Session) -> GenerateTab:
    ckpt = _default()
    names = ckpt.generator.class_names if ckpt else [str(i) for i in range(10)]
    loaded = gr.State(DEFAULT_SOURCE)
    checkpoint = gr.Textbox("", visible=False)  # API only: another source for one call
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=320):
            label, seed, reseed, layout, truncation, shifts = _view_controls(names)
        with gr.Column(scale=3, min_width=320):
            image = gr.Image(generate(None, None, DEFAULT_SOURCE, names[0], 0) if ckpt else None,
                             label="Generated",
                             type="pil", format="png", interactive=False, elem_id="generated",
                             buttons=["download", "fullscreen"], height=420)
            label_b, seed_b, t, animate, gif = _interpolation_controls(names)
    source, load, refresh, card = _checkpoint_panel(ckpt)
    owner = session.owner

    view = [layout, truncation, label_b, seed_b, t, *shifts]
    gr.on([loaded.change, label.change, seed.change, *(c.change for c in view)], generate,
          inputs=[owner, loaded, label, seed, checkpoint, *view], outputs=image, api_name="generate",
          concurrency_limit=GENERATE_CONCURRENCY, **LIVE)
    animate.click(interpolate, inputs=[owner, loaded, label, seed, label_b, seed_b, checkpoint, layout,
                                       truncation, *shifts], outputs=gif, api_name="interpolate",
                  concurrency_limit=HEAVY_CONCURRENCY)
    reseed.click(lambda: random.randint(0, sampling.MAX_SEED), outputs=seed, api_visibility="private")
    load_outputs = [loaded, label, label_b, card]
    load.click(load_checkpoint, inputs=[source, label, label_b, owner], outputs=load_outputs,
               api_name="load_checkpoint", concurrency_limit=HEAVY_CONCURRENCY)
    refresh.click(refresh_sources, inputs=owner, outputs=source, api_visibility="private")
    return GenerateTab(source=source, load=load_checkpoint, load_inputs=[label, label_b, owner],
                       load_outputs=load_outputs, image=image)
