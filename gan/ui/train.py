"""Train tab: a form that starts `python -m gan.train` through gan.runs, a live monitor, Stop,
a runs table, "Open in Generate", and the /start_run, /run_status, /stop_run API endpoints.

The form's widgets are RunParams' fields, built and read by name; /start_run takes the same
names, with the form's defaults. The 2 s poll runs only while some run is alive.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import gradio as gr
import pandas as pd

from gan import run_view
from gan.charts import loss_lines
from gan.run_params import CHOICES, ParamError, RunParams
from gan.runs import RunError, supervisor
from gan.status import LIVE_STATES
from gan.ui.generate import GenerateTab

POLL_S = 2.0
ROWS = (("dataset", "model", "loss"), ("epochs", "batch_size", "lr_g", "lr_d", "ema_decay", "seed"),
        ("logger", "wandb_project", "limit_batches"))  # then "overrides", in an accordion
PRIVATE = {"api_visibility": "private"}


def widget(f, value) -> gr.components.Component:
    """The form's widget for one RunParams field, from its type and label. No minimum/maximum
    and no choice check in Gradio: the core's checks name the field, Gradio's would not."""
    label = f.metadata["label"]
    if f.name in CHOICES:  # custom values reach the core's check too, for the same reason
        return gr.Dropdown(list(CHOICES[f.name]), value=value, label=label, allow_custom_value=True)
    if f.type in ("int", "float"):
        return gr.Number(value, label=label, precision=0 if f.type == "int" else None)
    if f.name == "overrides":
        return gr.Textbox(value, lines=3, label="One Hydra override per line",
                          placeholder="model.beta1=0.5\nmodel.g_width=64")
    return gr.Textbox(value, label=label)


def build_form() -> dict[str, gr.components.Component]:
    by_name, defaults = {f.name: f for f in fields(RunParams)}, RunParams()
    form = {}
    for row in ROWS:
        with gr.Row():
            form.update({name: widget(by_name[name], getattr(defaults, name)) for name in row})
    with gr.Accordion("Advanced overrides", open=False):
        form["overrides"] = widget(by_name["overrides"], defaults.overrides)
    return form


def _error(e: Exception) -> gr.Error:
    return gr.Error(str(e), print_exception=False)  # expected: no traceback in the terminal


def start_run(**params) -> str:
    """Start a training run (`python -m gan.train` in its own process); returns the run id."""
    try:
        return supervisor().start(params)
    except (ParamError, RunError) as e:
        raise _error(e) from None


def run_status(run_id: str) -> dict:
    """The run's status.json, with its true state and absolute paths to its files."""
    try:
        return supervisor().status(run_id)
    except RunError as e:
        raise _error(e) from None


def stop_run(run_id: str) -> dict:
    """Stop a run (checkpoint + export on the way out); returns its final status."""
    try:
        return supervisor().stop(run_id)
    except RunError as e:
        raise _error(e) from None


def after_start(run_id: str):
    gr.Info(f"Started run {run_id}")
    return gr.Dropdown(choices=run_ids(), value=run_id), gr.Timer(active=True)


def stop_from_form(run_id: str | None):
    state = run_status(run_id)["state"]
    if state not in LIVE_STATES:
        gr.Info(f"Run {run_id} is already {state}: nothing to stop.")
        return gr.Button(interactive=False)
    gr.Info(f"Stopping {run_id}: finishing the batch, saving a checkpoint and the export")
    final = stop_run(run_id)
    gr.Info(f"Run {run_id} is {final['state']}" + (f": {final['message']}" if final.get("message") else ""))
    return gr.Button(interactive=False)


def run_ids() -> list[str]:
    return [r["id"] for r in supervisor().list()]


def monitor(run_id: str | None):
    """Progress bar, progress line, curves, sample grid, metrics, log tail of one run; Stop is
    enabled only while it is alive."""
    if not run_id:
        return "", "", "", None, {}, "", gr.Button(interactive=False)
    status = run_status(run_id)
    bar = f'<progress value="{status.get("progress", 0.0):.4f}" max="1" style="width:100%"></progress>'
    curves = loss_lines(run_view.curve_rows(Path(status["folder"])))
    log = run_view.log_tail(Path(status["folder"]) / "output.log")
    return (bar, run_view.progress_line(status), curves, run_view.latest_sample(status),
            status.get("metrics") or {}, log, gr.Button(interactive=status["state"] in LIVE_STATES))


def runs_table():
    """The runs table, the picker's choices (the pick stays), and the poll on while a run lives."""
    runs = supervisor().list()
    rows = [run_view.table_row(s) for s in runs]
    alive = any(s["state"] in LIVE_STATES for s in runs)
    return (pd.DataFrame(rows, columns=run_view.TABLE_COLUMNS), gr.Dropdown(choices=[r[0] for r in rows]),
            gr.Timer(active=alive))


def on_page_load():
    """Runs table and the newest run picked; the form keeps its defaults ("Copy this run's
    settings" fills it from a run)."""
    table, _, timer = runs_table()
    ids = list(table["run"])
    return table, gr.Dropdown(choices=ids, value=ids[0] if ids else None), timer


def form_values(run_id: str | None) -> dict:
    """Field name -> value as the run `run_id` asked (RunParams' default where it did not say)."""
    if not run_id:
        raise gr.Error("Pick a run first.", print_exception=False)
    params = run_status(run_id)["params"]
    return {f.name: params.get(f.name, getattr(RunParams(), f.name)) for f in fields(RunParams)}


def generate_source(run_id: str | None) -> str:
    source = run_view.generate_source(run_status(run_id)) if run_id else None
    if not source:
        raise gr.Error("This run has no generator yet: its first snapshot comes within about "
                       "30 seconds of training.", print_exception=False)
    return source


def build_train_tab(generate: GenerateTab, tabs: gr.Tabs) -> None:
    form = build_form()
    with gr.Row():
        start = gr.Button("Start", variant="primary")
        stop = gr.Button("Stop", variant="stop", interactive=False)
        reuse = gr.Button("Copy this run's settings to the form")
        open_in_generate = gr.Button("Open in Generate")
    pick = gr.Dropdown(label="Run", choices=[], allow_custom_value=False)
    started = gr.Textbox(visible=False)  # the new run's id: what /start_run returns
    bar, line = gr.HTML(), gr.Markdown()
    with gr.Row():
        curves = gr.HTML(elem_id="loss-curves", min_height=220)
        sample = gr.Image(label="Latest samples (one row per class)", type="pil", interactive=False,
                          height=320)
    with gr.Row():
        metrics = gr.JSON(label="Latest metrics")
        log = gr.Textbox(label="Log (last lines)", lines=12, max_lines=12, autoscroll=True)
    table = gr.Dataframe(headers=run_view.TABLE_COLUMNS, label="Runs", interactive=False)
    timer = gr.Timer(POLL_S, active=False)
    view = [bar, line, curves, sample, metrics, log, stop]

    start.click(start_run, inputs_kwargs=form, outputs=started, api_name="start_run").success(
        after_start, inputs=started, outputs=[pick, timer], **PRIVATE)
    stop.click(stop_from_form, inputs=pick, outputs=stop, **PRIVATE)
    reuse.click(lambda run_id: {form[k]: v for k, v in form_values(run_id).items()}, inputs=pick,
                outputs=list(form.values()), **PRIVATE)
    pick.change(monitor, inputs=pick, outputs=view, **PRIVATE)
    gr.on(None, on_page_load, outputs=[table, pick, timer], **PRIVATE)  # on page load
    timer.tick(runs_table, outputs=[table, pick, timer], show_progress="hidden", **PRIVATE)
    timer.tick(monitor, inputs=pick, outputs=view, show_progress="hidden", **PRIVATE)
    open_in_generate.click(generate_source, inputs=pick, outputs=generate.source, **PRIVATE).success(
        generate.load, inputs=[generate.source, *generate.load_inputs], outputs=generate.load_outputs,
        **PRIVATE).success(lambda: gr.Tabs(selected="generate"), outputs=tabs, **PRIVATE)
    gr.api(run_status, api_name="run_status")
    gr.api(stop_run, api_name="stop_run")
