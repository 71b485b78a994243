"""Train tab: a form that starts `python -m gan.train` through gan.runs, a live monitor, Stop,
a runs table, "Open in Generate", and the /start_run, /run_status, /stop_run, /list_runs API
endpoints. Every call acts for its caller (gan.ui.session): in public mode a caller sees and
stops only the runs it started."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pandas as pd
from gradio.utils import get_upload_folder, is_in_or_equal

from gan import run_view
from gan.checkpoints import RUN_PREFIX
from gan.datasets import REGISTRY
from gan.run_params import CHOICES, UPLOAD, ParamError, RunParams
from gan.runs import RunError, supervisor
from gan.ui.generate import GenerateTab
from gan.ui.session import Session, who

FIELDS = list(RunParams().to_dict())  # form order == RunParams field order
POLL_S = 2.0
DATASETS = [(REGISTRY[n].title if n in REGISTRY else "Upload images (.zip)", n) for n in CHOICES["dataset"]]


def upload_form(d: RunParams) -> tuple[gr.Group, list[gr.components.Component]]:
    """The zip and its pixels, shown when the dataset is "Upload images (.zip)"."""
    with gr.Group(visible=d.dataset == UPLOAD) as group, gr.Row():
        widgets = [gr.File(label="Images (.zip): one folder per class, up to 100 MB", file_types=[".zip"],
                           type="filepath", scale=3),
                   gr.Dropdown(list(CHOICES["image_size"]), value=d.image_size, label="Image size (px)"),
                   gr.Radio([("colour", 3), ("grey", 1)], value=d.channels, label="Channels")]
    return group, widgets


def build_form() -> list[gr.components.Component]:
    d = RunParams()
    with gr.Row():
        widgets = [gr.Dropdown(DATASETS, value=d.dataset, label="Dataset"),
                   gr.Dropdown(list(CHOICES["model"]), value=d.model, label="Model"),
                   gr.Dropdown(list(CHOICES["loss"]), value=d.loss, label="Loss")]
    group, upload = upload_form(d)
    widgets[0].change(lambda name: gr.Group(visible=name == UPLOAD), widgets[0], group,
                      api_visibility="private")
    with gr.Row():
        widgets += [gr.Number(d.epochs, label="Epochs", precision=0, minimum=1),
                    gr.Number(d.batch_size, label="Batch size", precision=0, minimum=1),
                    gr.Number(d.lr_g, label="Generator LR"), gr.Number(d.lr_d, label="Discriminator LR"),
                    gr.Number(d.ema_decay, label="EMA decay"), gr.Number(d.seed, label="Seed", precision=0)]
    with gr.Row():
        widgets += [gr.Radio(list(CHOICES["logger"]), value=d.logger, label="Logger"),
                    gr.Textbox(d.wandb_project, label="W&B project"),
                    gr.Number(d.limit_batches, label="Batches per epoch (0 = all)", precision=0, minimum=0)]
    with gr.Accordion("Advanced overrides", open=False):
        widgets.append(gr.Textbox(d.overrides, lines=3, label="One Hydra override per line",
                                  placeholder="model.beta1=0.5\nmodel.g_width=64"))
    return widgets + upload  # RunParams order: the upload fields come last


def start_run(dataset: str = "mnist", model: str = "conv", loss: str = "hinge", epochs: int = 5,
              batch_size: int = 64, lr_g: float = 2e-4, lr_d: float = 4e-4, ema_decay: float = 0.999,
              seed: int = 0, logger: str = "csv", wandb_project: str = "cgan-studio",
              limit_batches: int = 0, overrides: str = "", upload: str = "", image_size: int = 32,
              channels: int = 3, request: gr.Request = None) -> str:
    """Start a training run (`python -m gan.train` in its own process); returns the run id.
    `upload` (dataset "upload") must be a file uploaded to this app, never another server path."""
    values = dict(zip(FIELDS, (dataset, model, loss, epochs, batch_size, lr_g, lr_d, ema_decay, seed,
                               logger, wandb_project, limit_batches, overrides, upload or "",
                               image_size, channels)))
    if upload and not is_in_or_equal(upload, get_upload_folder()):
        raise gr.Error("upload: not a file uploaded to this app")
    return start_for(values, who(None, request))


def run_status(run_id: str, request: gr.Request = None) -> dict:
    """The run's status.json, with its true state and absolute paths to its files."""
    return status_for(run_id, who(None, request))


def stop_run(run_id: str, request: gr.Request = None) -> dict:
    """Stop a run: returns at once with state `stopping`; the trainer saves a checkpoint and the
    export on the way out (SIGTERM after 60 s, SIGKILL 15 s later)."""
    try:
        return supervisor().stop(run_id, who(None, request))
    except RunError as e:
        raise gr.Error(str(e)) from None


def list_runs(request: gr.Request = None) -> list[dict]:
    """The caller's runs (every run in local mode), newest first: id, state, progress."""
    return [{"id": s["id"], "state": s["state"], "progress": s.get("progress", 0.0)}
            for s in supervisor().list(who(None, request))]


def start_for(values: dict, owner: str | None) -> str:
    try:
        return supervisor().start(values, owner)
    except (ParamError, RunError) as e:
        raise gr.Error(str(e)) from None


def status_for(run_id: str, owner: str | None) -> dict:
    try:
        return supervisor().status(run_id, owner)
    except RunError as e:
        raise gr.Error(str(e)) from None


def stop_for(run_id: str, owner: str | None) -> dict:
    try:
        return supervisor().stop(run_id, owner)
    except RunError as e:
        raise gr.Error(str(e)) from None


def start_from_form(request: gr.Request, owner: str | None, *values):
    owner = who(owner, request)
    run_id = start_for(dict(zip(FIELDS, values)), owner)
    gr.Info(f"Started run {run_id}")
    return gr.Dropdown(choices=run_ids(owner), value=run_id)


def stop_from_form(request: gr.Request, owner: str | None, run_id: str | None) -> None:
    gr.Info(f"Stopping {run_id}: finishing the batch, saving a checkpoint and the export")
    state = stop_for(run_id, who(owner, request))["state"]
    gr.Info(f"Run {run_id} is {state}")


def run_ids(owner: str | None) -> list[str]:
    return [r["id"] for r in supervisor().list(owner)]


def monitor(request: gr.Request, owner: str | None, run_id: str | None):
    """Progress bar, progress line, curves, sample grid, metrics and log tail of one run."""
    try:
        status = supervisor().status(run_id, who(owner, request)) if run_id else None
    except RunError as e:  # removed meanwhile (only the newest finished runs are kept)
        return "", str(e), None, None, {}, ""
    if status is None:
        return "", "", None, None, {}, ""
    bar = f'<progress value="{status.get("progress", 0.0):.4f}" max="1" style="width:100%"></progress>'
    rows = run_view.curve_rows(Path(status["folder"]))
    curves = pd.DataFrame(rows) if rows else None  # an empty frame would pin the plot to no lines
    sample = run_view.latest_sample(status)
    log = run_view.log_tail(Path(status["folder"]) / "output.log")
    return bar, run_view.progress_line(status), curves, sample, status.get("metrics") or {}, log


def runs_table(request: gr.Request, owner: str | None):
    """The runs table and the picker's choices; the picked run stays as the person left it."""
    rows = [run_view.table_row(s) for s in supervisor().list(who(owner, request))]
    return pd.DataFrame(rows, columns=run_view.TABLE_COLUMNS), gr.Dropdown(choices=[r[0] for r in rows])


def on_page_load(request: gr.Request, owner: str | None):
    """Runs table, the newest run picked, and the form as that run had it."""
    table, _ = runs_table(request, owner)
    ids = list(table["run"])
    newest = ids[0] if ids else None
    return table, gr.Dropdown(choices=ids, value=newest), *form_values(request, owner, newest)


def form_values(request: gr.Request, owner: str | None, run_id: str | None) -> list:
    """The form as it was for `run_id` (or the newest run), so a stop or reload loses nothing."""
    owner = who(owner, request)
    ids = [run_id] if run_id else run_ids(owner)[:1]
    params = status_for(ids[0], owner)["params"] if ids else RunParams().to_dict()
    params["upload"] = None  # a run's zip is its own copy; a new run needs a new upload
    return [params.get(name, getattr(RunParams(), name)) for name in FIELDS]


def generate_source(request: gr.Request, owner: str | None, run_id: str | None) -> str:
    """`run:<id>` for the Generate tab, once the run has an export or a checkpoint."""
    status = status_for(run_id, who(owner, request)) if run_id else {}
    if not run_view.generate_source(status):
        raise gr.Error("This run has no checkpoint yet: wait for its first epoch to end.")
    return f"{RUN_PREFIX}{run_id}"


def build_train_tab(generate: GenerateTab, tabs: gr.Tabs, session: Session) -> None:
    form = build_form()
    with gr.Row():
        start = gr.Button("Start", variant="primary")
        stop = gr.Button("Stop", variant="stop")
        reuse = gr.Button("Copy this run's settings to the form")
        open_in_generate = gr.Button("Open in Generate")
    pick = gr.Dropdown(label="Run", choices=[], allow_custom_value=False)
    bar, line = gr.HTML(), gr.Markdown()
    with gr.Row():
        curves = gr.LinePlot(x="batch", y="value", color="metric", label="Losses")
        sample = gr.Image(label="Latest samples (one row per class)", type="pil", interactive=False,
                          height=320)
    with gr.Row():
        metrics = gr.JSON(label="Latest metrics")
        log = gr.Textbox(label="Log (last lines)", lines=12, max_lines=12, autoscroll=True)
    table = gr.Dataframe(headers=run_view.TABLE_COLUMNS, label="Runs", interactive=False)
    view = [bar, line, curves, sample, metrics, log]
    private = {"api_visibility": "private"}
    owner = session.owner

    start.click(start_from_form, inputs=[owner, *form], outputs=pick, **private)
    stop.click(stop_from_form, inputs=[owner, pick], outputs=None, **private)
    reuse.click(form_values, inputs=[owner, pick], outputs=form, **private)
    pick.change(monitor, inputs=[owner, pick], outputs=view, **private)
    session.ready.then(on_page_load, inputs=owner, outputs=[table, pick, *form], **private)
    timer = gr.Timer(POLL_S)
    timer.tick(runs_table, inputs=owner, outputs=[table, pick], show_progress="hidden", **private)
    timer.tick(monitor, inputs=[owner, pick], outputs=view, show_progress="hidden", **private)
    open_in_generate.click(generate_source, inputs=[owner, pick], outputs=generate.source, **private).success(
        generate.load, inputs=[generate.source, *generate.load_inputs], outputs=generate.load_outputs,
        **private).success(lambda: gr.Tabs(selected="generate"), outputs=tabs, **private)
    gr.api(start_run, api_name="start_run")
    gr.api(run_status, api_name="run_status")
    gr.api(stop_run, api_name="stop_run")
    gr.api(list_runs, api_name="list_runs")
