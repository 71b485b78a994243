"""Train tab: a form that starts `python -m gan.train` through gan.runs, a live monitor, Stop,
a runs table, "Open in Generate", and the /start_run, /run_status, /stop_run, /list_runs API
endpoints. Every call acts for its caller (gan.ui.session): in public mode a caller sees and
stops only the runs it started.

The form's widgets are RunParams' fields, built and read by name; /start_run's parameters are
the same fields with their defaults (`by_field_name`). The 2 s poll runs only while a run lives.
"""

from __future__ import annotations

import inspect
from dataclasses import fields
from pathlib import Path

import gradio as gr
import pandas as pd
from gradio.utils import get_upload_folder, is_in_or_equal

from gan import run_view
from gan.charts import loss_lines
from gan.checkpoints import RUN_PREFIX
from gan.datasets import REGISTRY
from gan.run_params import CHOICES, UPLOAD, ParamError, RunParams
from gan.runs import ACTIVE, RunError, supervisor
from gan.status import LIVE_STATES
from gan.ui.generate import GenerateTab
from gan.ui.session import Session, who

POLL_S = 2.0
ROWS = (("dataset", "model", "loss"), ("epochs", "batch_size", "lr_g", "lr_d", "ema_decay", "seed"),
        ("logger", "wandb_project", "limit_batches"))  # then the upload group and "overrides"
UPLOAD_ROW = ("upload", "image_size", "channels")  # shown for dataset "Upload images (.zip)"
PRIVATE = {"api_visibility": "private"}
TYPES = {"str": str, "int": int, "float": float}


def widget(f, value) -> gr.components.Component:
    """The form's widget for one RunParams field, labelled from the dataclass. Numbers have no
    minimum/maximum: the core's checks name the field, Gradio's would not."""
    label = f.metadata["label"]
    special = {
        "dataset": lambda: gr.Dropdown([(REGISTRY[n].title if n in REGISTRY else "Upload images (.zip)", n)
                                        for n in CHOICES["dataset"]], value=value, label=label),
        "logger": lambda: gr.Radio(list(CHOICES["logger"]), value=value, label=label),
        "channels": lambda: gr.Radio([("colour", 3), ("grey", 1)], value=value, label=label),
        "upload": lambda: gr.File(label=label, file_types=[".zip"], type="filepath", scale=3),
        "overrides": lambda: gr.Textbox(value, lines=3, label="One Hydra override per line",
                                        placeholder="model.beta1=0.5\nmodel.g_width=64")}
    if f.name in special:
        return special[f.name]()
    if f.name in CHOICES:
        return gr.Dropdown(list(CHOICES[f.name]), value=value, label=label)
    if f.type in ("int", "float"):
        return gr.Number(value, label=label, precision=0 if f.type == "int" else None)
    return gr.Textbox(value, label=label)


def build_form() -> dict[str, gr.components.Component]:
    by_name, defaults = {f.name: f for f in fields(RunParams)}, RunParams()
    make = lambda name: widget(by_name[name], getattr(defaults, name))  # noqa: E731
    form = {}
    with gr.Row():
        form.update({name: make(name) for name in ROWS[0]})
    with gr.Group(visible=defaults.dataset == UPLOAD) as upload_group, gr.Row():
        form.update({name: make(name) for name in UPLOAD_ROW})
    for row in ROWS[1:]:
        with gr.Row():
            form.update({name: make(name) for name in row})
    with gr.Accordion("Advanced overrides", open=False):
        form["overrides"] = make("overrides")
    form["dataset"].change(lambda name: gr.Group(visible=name == UPLOAD), form["dataset"], upload_group,
                           **PRIVATE)
    return form


def _error(e: Exception) -> gr.Error:
    return gr.Error(str(e), print_exception=False)  # expected: no traceback in the terminal


def by_field_name(fn):
    """`fn(values, request)` as a function whose parameters are RunParams' fields (their types
    and defaults) plus `request`: what gr.api documents and defaults, reaching `fn` by name."""
    params = [inspect.Parameter(f.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=f.default,
                                annotation=TYPES[f.type]) for f in fields(RunParams)]
    params.append(inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                                    annotation=gr.Request))
    signature = inspect.Signature(params, return_annotation=str)

    def api(*args, **kwargs):
        values = signature.bind(*args, **kwargs).arguments
        return fn({k: v for k, v in values.items() if k != "request"}, values.get("request"))

    api.__signature__, api.__name__, api.__doc__ = signature, fn.__name__, fn.__doc__
    api.__annotations__ = {p.name: p.annotation for p in params} | {"return": str}
    return api


@by_field_name
def start_run(values: dict, request: gr.Request | None) -> str:
    """Start a training run (`python -m gan.train` in its own process); returns the run id.
    `upload` (dataset "upload") must be a file uploaded to this app, never another server path."""
    if values.get("upload") and not is_in_or_equal(values["upload"], get_upload_folder()):
        raise gr.Error("upload: not a file uploaded to this app", print_exception=False)
    return start_for(values, who(None, request))


def run_status(run_id: str, request: gr.Request = None) -> dict:
    """The run's status.json, with its true state and absolute paths to its files."""
    return status_for(run_id, who(None, request))


def stop_run(run_id: str, request: gr.Request = None) -> dict:
    """Stop a run: returns at once with state `stopping`; the trainer saves a checkpoint and the
    export on the way out (SIGTERM after 60 s, SIGKILL 15 s later)."""
    return stop_for(run_id, who(None, request))


def list_runs(request: gr.Request = None) -> list[dict]:
    """The caller's runs (every run in local mode), newest first: id, state, progress."""
    return [{"id": s["id"], "state": s["state"], "progress": s.get("progress", 0.0)}
            for s in supervisor().list(who(None, request))]


def start_for(values: dict, owner: str | None) -> str:
    try:
        return supervisor().start(values, owner)
    except (ParamError, RunError) as e:
        raise _error(e) from None


def status_for(run_id: str, owner: str | None) -> dict:
    try:
        return supervisor().status(run_id, owner)
    except RunError as e:
        raise _error(e) from None


def stop_for(run_id: str, owner: str | None) -> dict:
    try:
        return supervisor().stop(run_id, owner)
    except RunError as e:
        raise _error(e) from None


def start_from_form(request: gr.Request, owner: str | None, **values):
    owner = who(owner, request)
    run_id = start_for(values, owner)
    gr.Info(f"Started run {run_id}")
    return gr.Dropdown(choices=run_ids(owner), value=run_id), gr.Timer(active=True)


def stop_from_form(request: gr.Request, owner: str | None, run_id: str | None):
    owner = who(owner, request)
    state = status_for(run_id, owner)["state"]
    if state not in LIVE_STATES:
        gr.Info(f"Run {run_id} is already {state}: nothing to stop.")
        return gr.Button(interactive=False)
    gr.Info(f"Stopping {run_id}: finishing the batch, saving a checkpoint and the export")
    stop_for(run_id, owner)
    return gr.Button(interactive=False)


def run_ids(owner: str | None) -> list[str]:
    return [r["id"] for r in supervisor().list(owner)]


def monitor(request: gr.Request, owner: str | None, run_id: str | None):
    """Progress bar, progress line, curves, sample grid, metrics, log tail of one run; Stop is
    enabled only while it runs."""
    try:
        status = supervisor().status(run_id, who(owner, request)) if run_id else None
    except RunError as e:  # removed meanwhile (only the newest finished runs are kept)
        return "", str(e), "", None, {}, "", gr.Button(interactive=False)
    if status is None:
        return "", "", "", None, {}, "", gr.Button(interactive=False)
    bar = f'<progress value="{status.get("progress", 0.0):.4f}" max="1" style="width:100%"></progress>'
    curves = loss_lines(run_view.curve_rows(Path(status["folder"])))
    log = run_view.log_tail(Path(status["folder"]) / "output.log")
    return (bar, run_view.progress_line(status), curves, run_view.latest_sample(status),
            status.get("metrics") or {}, log, gr.Button(interactive=status["state"] in LIVE_STATES))


def runs_table(request: gr.Request, owner: str | None):
    """The runs table, the picker's choices (the pick stays), and the poll on while a run lives."""
    runs = supervisor().list(who(owner, request))
    rows = [run_view.table_row(s) for s in runs]
    alive = any(s["state"] in ACTIVE for s in runs)
    return (pd.DataFrame(rows, columns=run_view.TABLE_COLUMNS), gr.Dropdown(choices=[r[0] for r in rows]),
            gr.Timer(active=alive))


def on_page_load(request: gr.Request, owner: str | None):
    """Runs table and the newest run picked; the form keeps its defaults ("Copy this run's
    settings" fills it from a run)."""
    table, _, timer = runs_table(request, owner)
    ids = list(table["run"])
    return table, gr.Dropdown(choices=ids, value=ids[0] if ids else None), timer


def form_values(request: gr.Request, owner: str | None, run_id: str | None) -> dict:
    """Field name -> value as the run `run_id` asked (RunParams' default where it did not say)."""
    if not run_id:
        raise gr.Error("Pick a run first.", print_exception=False)
    params = status_for(run_id, who(owner, request))["params"]
    params["upload"] = None  # a run's zip is its own copy; a new run needs a new upload
    return {f.name: params.get(f.name, getattr(RunParams(), f.name)) for f in fields(RunParams)}


def generate_source(request: gr.Request, owner: str | None, run_id: str | None) -> str:
    """`run:<id>` for the Generate tab, once the run has a live snapshot, an export or a checkpoint."""
    status = status_for(run_id, who(owner, request)) if run_id else {}
    if not run_view.generate_source(status):
        raise gr.Error("This run has no generator yet: its first snapshot comes within about "
                       "30 seconds of training.", print_exception=False)
    return f"{RUN_PREFIX}{run_id}"


def build_train_tab(generate: GenerateTab, tabs: gr.Tabs, session: Session) -> None:
    form = build_form()
    with gr.Row():
        start = gr.Button("Start", variant="primary")
        stop = gr.Button("Stop", variant="stop", interactive=False)
        reuse = gr.Button("Copy this run's settings to the form")
        open_in_generate = gr.Button("Open in Generate")
    pick = gr.Dropdown(label="Run", choices=[], allow_custom_value=False)
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
    owner = session.owner

    start.click(start_from_form, inputs=[owner], inputs_kwargs=form, outputs=[pick, timer], **PRIVATE)
    stop.click(stop_from_form, inputs=[owner, pick], outputs=stop, **PRIVATE)
    def copy_settings(request: gr.Request, owner_token: str | None, run_id: str | None) -> dict:
        return {form[k]: v for k, v in form_values(request, owner_token, run_id).items()}

    reuse.click(copy_settings, inputs=[owner, pick], outputs=list(form.values()), **PRIVATE)
    pick.change(monitor, inputs=[owner, pick], outputs=view, **PRIVATE)
    session.ready.then(on_page_load, inputs=owner, outputs=[table, pick, timer], **PRIVATE)
    timer.tick(runs_table, inputs=owner, outputs=[table, pick, timer], show_progress="hidden", **PRIVATE)
    timer.tick(monitor, inputs=[owner, pick], outputs=view, show_progress="hidden", **PRIVATE)
    open_in_generate.click(generate_source, inputs=[owner, pick], outputs=generate.source, **PRIVATE).success(
        generate.load, inputs=[generate.source, *generate.load_inputs], outputs=generate.load_outputs,
        **PRIVATE).success(lambda: gr.Tabs(selected="generate"), outputs=tabs, **PRIVATE)
    gr.api(start_run, api_name="start_run")
    gr.api(run_status, api_name="run_status")
    gr.api(stop_run, api_name="stop_run")
    gr.api(list_runs, api_name="list_runs")
