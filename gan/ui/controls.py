"""The Generate view's controls, each declared once, under the name `gan.recipe.Recipe.controls`
gives it; the API, links, PNG recipes and restoring reach every control by that name.

Adding a control: a field in `Recipe` (and its use in `gan.sampling`), and its widget here.
"""

from __future__ import annotations

import random

import gradio as gr

from gan import sampling
from gan.recipe import DIRECTION, Recipe

DEFAULT = Recipe()
NAMES = tuple(DEFAULT.controls())  # every control, in the API's order


def seed_box(name: str, label: str, value: int) -> gr.Number:
    """A seed with a Random button beside it. No minimum/maximum on the box: the core's check
    names the field in its message, where Gradio's would not."""
    with gr.Row():
        box = gr.Number(value, label=label, precision=0, scale=3, elem_id=f"control-{name}",
                        info=f"a whole number from 0 to {sampling.MAX_SEED:,}")
        pick = gr.Button("Random", scale=1, min_width=80, elem_id=f"random-{name}")
    pick.click(lambda: random.randint(0, sampling.MAX_SEED), outputs=box, api_visibility="private")
    return box


def view_controls(names: list[str], strip_values: list) -> tuple[dict, list[gr.Image]]:
    """Class, seed, grid, truncation and the direction sliders, each with its strip image."""
    c = {"label": gr.Dropdown(names, value=names[0], label="Class", allow_custom_value=True,
                              elem_id="control-label"),
         "seed": seed_box("seed", "Seed", DEFAULT.seed),
         "layout": gr.Radio(list(sampling.LAYOUTS), value=DEFAULT.layout, label="Grid"),
         "truncation": gr.Slider(0.0, 1.0, value=DEFAULT.truncation, step=0.05,
                                 label="Truncation (1 = off; lower = more typical, less varied)")}
    strips = []
    with gr.Accordion("Latent directions: what each does, from -3 to +3", open=True):
        for i in range(sampling.NUM_DIRECTIONS):
            name = DIRECTION.format(i + 1)
            c[name] = gr.Slider(-3.0, 3.0, value=DEFAULT.directions[i], step=0.1, elem_id=f"control-{name}",
                                label=f"Direction {i + 1} ({_rank(i)} variation, in standard deviations)")
            strips.append(gr.Image(strip_values[i] if strip_values else None, label=f"Direction {i + 1}: the image at -3, -2, -1, 0, +1, +2, +3",
                                   show_label=False, interactive=False, height=64, container=False,
                                   elem_id=f"strip-{i + 1}", buttons=[]))
    return c, strips


def _rank(i: int) -> str:
    return "largest" if i == 0 else f"{i + 1}{'nd' if i == 1 else 'rd' if i == 2 else 'th'}-largest"


def interpolation_controls(names: list[str]) -> dict:
    with gr.Group():
        c = {"label_b": gr.Dropdown(names, value=names[-1], label="Class B", allow_custom_value=True,
                                    elem_id="control-label_b"),
             "seed_b": seed_box("seed_b", "Seed B", DEFAULT.seed_b),
             "t": gr.Slider(0.0, 1.0, value=DEFAULT.t, step=0.02, label="Interpolate A → B (t)",
                            elem_id="interp-t")}
    return c


def ordered(controls: dict, **extra) -> dict:
    """`controls` in the API's order, with `extra` inputs (the API's `checkpoint`) after the seed."""
    out = {}
    for name in NAMES:
        if name in controls:
            out[name] = controls[name]
        if name == "seed":
            out.update(extra)
    return out
