"""Generate tab: layout and event wiring; every callback is a few lines over the core
(gan.checkpoints, gan.recipe, gan.sampling, gan.images, gan.nearest).

Named API endpoints (gradio_client):
    /generate(label, seed, checkpoint="", layout, truncation, label_b, seed_b, t,
              direction_1..direction_4) -> PNG file that carries its recipe (gan.recipe)
    /interpolate(label, seed, checkpoint="", layout, truncation, label_b, seed_b,
                 direction_1..direction_4) -> GIF file (t from 0 to 1)
    /load_checkpoint(source, label, label_b) -> (class, class B, model card markdown)
`checkpoint` "" means the session's loaded checkpoint (the bundled `mnist` at start). /generate
and /interpolate never download: a `checkpoint` there is one this process loaded already, or a
local one; /load_checkpoint (the Load button, a picked source, a link or a dropped PNG naming a
source) is what fetches. The page also reads a link's query (`?source=mnist&class=5&seed=3`).
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import gradio as gr

from gan import bounded_folder, checkpoints, recipe, sampling
from gan.images import gif_bytes, png_bytes, view_image
from gan.limits import GIF_BYTES, GIF_FILES, PNG_BYTES, PNG_FILES
from gan.recipe import Recipe
from gan.ui import controls as ctl
from gan.ui import panel
from gan.ui.nearest_view import build_nearest, nearest_images
from gan.ui.session import Session, who
from gan.ui.share import COPY_JS, build_drop, build_link, link_query, restore

# inside Gradio's upload folder, so Gradio serves the files from here instead of keeping a copy
FILES_DIR = Path(gr.utils.get_upload_folder()) / "cgan-studio-files"
LIVE = {"trigger_mode": "always_last", "show_progress": "hidden"}  # latest value wins, no spinner
PRIVATE = {"api_visibility": "private"}
# A crowd queues instead of failing: /generate (~2 ms of work) runs two at a time, one per core;
# GIFs (24 frames), strips, nearest images and checkpoint loads (may download, computes PCA) one.
GENERATE_CONCURRENCY, HEAVY_CONCURRENCY = 2, 1


@dataclass
class GenerateTab:
    """What other tabs need to drive this one: put a checkpoint source into `source`, then run
    `load` with `inputs=[source, *load_inputs]` and `outputs=load_outputs`; the image re-renders."""

    source: gr.Dropdown
    load: Callable
    load_inputs: list = field(default_factory=list)
    load_outputs: list = field(default_factory=list)


def clear_errors(fn: Callable) -> Callable:
    """Bad values and bad sources become a gr.Error the page shows (no traceback in the
    terminal: they are expected); the server keeps serving."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError, checkpoints.CheckpointError) as e:
            raise gr.Error(str(e), print_exception=False) from e
    return wrapper


# ---------------------------------------------------------------- callbacks (thin)


def served(data: bytes, r: Recipe, suffix: str, max_files: int, max_bytes: int) -> str:
    """A file Gradio serves, named after its recipe and content, in a folder of bounded size."""
    words = re.sub(r"[^A-Za-z0-9]+", "-", f"{Path(r.source).name}-{r.label}-seed{r.seed}").strip("-")
    name = f"cgan-{words}-{hashlib.sha1(data).hexdigest()[:12]}.{suffix}"
    return str(bounded_folder.write(FILES_DIR / suffix, name, data, max_files, max_bytes))


def _generator(source: str, owner: str | None, request: gr.Request | None):
    return checkpoints.load_generator(source, fetch=False, owner=who(owner, request))


def _picture(request: gr.Request, owner: str | None, loaded: str, checkpoint: str = "", **controls) -> str:
    r = Recipe.from_controls(checkpoint or loaded, controls)
    image = recipe.picture(_generator(r.source, owner, request), r)
    return served(png_bytes(image), r, "png", PNG_FILES, PNG_BYTES)


@clear_errors
def generate(request: gr.Request, owner: str | None, loaded: str, checkpoint: str = "", **controls) -> str:
    """One picture for the controls' values: a PNG that carries its recipe."""
    return _picture(request, owner, loaded, checkpoint, **controls)


@clear_errors
def render(request: gr.Request, owner: str | None, loaded: str, checkpoint: str = "", **controls):
    """`generate` for the page's own controls. While a checkpoint switch is in flight (a link, a
    dropped PNG, a picked source) the class list can lag the generator by one event: that
    render keeps the picture, and the next one, with the new classes, draws it."""
    try:
        return _picture(request, owner, loaded, checkpoint, **controls)
    except sampling.UnknownClass:
        return gr.skip()


@clear_errors
def interpolate(request: gr.Request, owner: str | None, loaded: str, checkpoint: str = "",
                **controls) -> str:
    """An animated GIF from (class, seed) at t=0 to (class B, seed B) at t=1."""
    r = Recipe.from_controls(checkpoint or loaded, {**controls, "t": 1.0})  # B is used: checked
    g = _generator(r.source, owner, request)
    frames, nrow = sampling.morph(g, r.view(g))
    return served(gif_bytes([view_image(images, nrow) for images in frames]), r, "gif", GIF_FILES, GIF_BYTES)


def strips(request: gr.Request, owner: str | None, loaded: str, **controls) -> list:
    """The image at -3..+3 along each direction; nothing changes for values generate refuses."""
    try:
        r = Recipe.from_controls(loaded, controls)
        g = _generator(loaded, owner, request)
        view = r.view(g)
    except (ValueError, TypeError, checkpoints.CheckpointError):
        return [gr.skip()] * sampling.NUM_DIRECTIONS  # generate already says what is wrong
    return [view_image(sampling.along(g, view, i), nrow=len(sampling.STRIP))
            for i in range(sampling.NUM_DIRECTIONS)]


@clear_errors
def load_checkpoint(request: gr.Request, source: str, label: str = "", label_b: str = "",
                    owner: str | None = None):
    # an explicit load asks the remote again (at most once a minute)
    ckpt = checkpoints.load_checkpoint(source, refresh=True, owner=who(owner, request))
    sampling.directions(ckpt.generator)  # PCA now, so the first slider drag is already live
    names = ckpt.generator.class_names
    keep = lambda name, fallback: name if name in names else fallback  # noqa: E731
    return (ckpt.source, gr.Dropdown(choices=names, value=keep(label, names[0])),
            gr.Dropdown(choices=names, value=keep(label_b, names[-1])), panel.card_markdown(ckpt))


@clear_errors
def find_nearest(request: gr.Request, owner: str | None, loaded: str, progress=gr.Progress(), **controls):
    ckpt = checkpoints.load_checkpoint(loaded, fetch=False, owner=who(owner, request))
    return nearest_images(ckpt, controls, progress)


# ---------------------------------------------------------------- layout and wiring


def _default() -> checkpoints.Checkpoint | None:
    try:
        ckpt = checkpoints.load_checkpoint(panel.DEFAULT_SOURCE)
        sampling.directions(ckpt.generator)
        return ckpt
    except checkpoints.CheckpointError:
        return None


def build_generate_tab(session: Session) -> GenerateTab:
    ckpt = _default()
    names = ckpt.generator.class_names if ckpt else [str(i) for i in range(10)]
    start = Recipe(panel.DEFAULT_SOURCE).filled(ckpt.generator).controls() if ckpt else {}
    loaded = gr.State(panel.DEFAULT_SOURCE)
    checkpoint = gr.Textbox("", visible=False)  # API only: another source for one call
    source, load, refresh = panel.build_source_row()
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=320):
            controls, strip_images = ctl.view_controls(
                names, strips(None, None, panel.DEFAULT_SOURCE, **start) if ckpt else [])
        with gr.Column(scale=3, min_width=320):
            image = gr.Image(generate(None, None, panel.DEFAULT_SOURCE, **start) if ckpt else None,
                             label="Generated", type="filepath", format="png", interactive=False,
                             elem_id="generated", buttons=["download", "fullscreen"], height=420)
            controls.update(ctl.interpolation_controls(names))
            animate = gr.Button("Animate A → B (GIF)", elem_id="animate")
            gif = gr.Image(label="Animation A → B", type="filepath", interactive=False, elem_id="gif",
                           buttons=["download"], height=260)
            copy, link = build_link()
            drop = build_drop()
    card, chart = panel.build_quality(ckpt)
    find, gallery, found = build_nearest()
    owner = session.owner

    view = [loaded.change, *(c.change for c in controls.values())]
    gr.on(view, render, inputs=[owner, loaded], inputs_kwargs=ctl.ordered(controls, checkpoint=checkpoint),
          outputs=image, concurrency_limit=GENERATE_CONCURRENCY, concurrency_id="generate", **LIVE, **PRIVATE)
    api_only = gr.Button(visible=False)  # /generate for API callers: strict about every value
    api_only.click(generate, inputs=[owner, loaded], inputs_kwargs=ctl.ordered(controls, checkpoint=checkpoint),
                   outputs=image, api_name="generate", concurrency_limit=GENERATE_CONCURRENCY,
                   concurrency_id="generate")
    gr.on(view, strips, inputs=[owner, loaded], inputs_kwargs=controls, outputs=strip_images,
          concurrency_limit=HEAVY_CONCURRENCY, concurrency_id="strips", **LIVE, **PRIVATE)
    without_t = {k: v for k, v in controls.items() if k != "t"}
    animate.click(interpolate, inputs=[owner, loaded], inputs_kwargs=ctl.ordered(without_t, checkpoint=checkpoint),
                  outputs=gif, api_name="interpolate", concurrency_limit=HEAVY_CONCURRENCY)
    load_outputs = [loaded, controls["label"], controls["label_b"], card]
    load_inputs = [controls["label"], controls["label_b"], owner]
    load.click(load_checkpoint, inputs=[source, *load_inputs], outputs=load_outputs,
               api_name="load_checkpoint", concurrency_limit=HEAVY_CONCURRENCY)
    source.input(load_checkpoint, inputs=[source, *load_inputs], outputs=load_outputs,
                 concurrency_limit=HEAVY_CONCURRENCY, **PRIVATE)
    refresh.click(panel.refresh_sources, inputs=owner, outputs=source, **PRIVATE)
    loaded.change(panel.chart_html, inputs=[owner, loaded], outputs=chart, **PRIVATE)
    find.click(find_nearest, inputs=[owner, loaded], inputs_kwargs=controls, outputs=[gallery, found],
               concurrency_limit=HEAVY_CONCURRENCY, concurrency_id="strips", **PRIVATE)
    _wire_share(session, loaded, source, card, controls, copy, link, drop)
    return GenerateTab(source=source, load=load_checkpoint, load_inputs=load_inputs, load_outputs=load_outputs)


def _wire_share(session: Session, loaded, source, card, controls: dict, copy, link, drop) -> None:
    """Copy link; restore from a link's query on page load and from a dropped PNG."""
    def updates(wanted: Recipe, current: str, owner: str | None) -> dict:
        ckpt, full = restore(wanted, current, owner)
        names = ckpt.generator.class_names
        out = {loaded: ckpt.source, source: gr.Dropdown(value=ckpt.source), card: panel.card_markdown(ckpt)}
        out.update({controls[k]: gr.Dropdown(choices=names, value=v) if k in ("label", "label_b") else v
                    for k, v in full.controls().items()})
        return out

    @clear_errors
    def from_link(request: gr.Request, owner: str | None) -> dict:  # a new page: the default is loaded
        params = dict(request.query_params) if request else {}
        wanted = recipe.from_text(params) if params else None
        return updates(wanted, panel.DEFAULT_SOURCE, who(owner, request)) if wanted else {loaded: gr.skip()}

    @clear_errors
    def from_png(request: gr.Request, owner: str | None, path: str | None, current: str) -> dict:
        return updates(recipe.read_png(path), current, who(owner, request)) if path else {loaded: gr.skip()}

    targets = [loaded, source, card, *controls.values()]
    copy.click(lambda current, **c: link_query(current, c), inputs=[loaded], inputs_kwargs=controls,
               outputs=link, **PRIVATE).then(None, inputs=link, outputs=link, js=COPY_JS, **PRIVATE)
    session.ready.then(from_link, inputs=session.owner, outputs=targets, **PRIVATE)  # on page load
    drop.upload(from_png, inputs=[session.owner, drop, loaded], outputs=targets, **PRIVATE)
