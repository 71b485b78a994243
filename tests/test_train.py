"""Real training on real MNIST: in-process, CLI (multirun), W&B offline, and 2-process DDP."""

import csv
import json
import os
import subprocess
import sys

import pytest
import torch

from conftest import ROOT, TINY_RUN, compose_cfg, wandb_records
from gan import load_generator
from gan.module import GANModule
from gan.train import train

# TINY_RUN (8 batches) with the CSV logger writing every 4th batch
LOG_EVERY_4TH = [o for o in TINY_RUN if not o.startswith("trainer.log_every_n_steps")] + [
    "trainer.log_every_n_steps=4", "logger=csv"]


def test_short_real_mnist_run_exports_and_logs(tmp_path):
    run = train(compose_cfg(tmp_path, [*TINY_RUN, "logger=csv", "model.loss=bce", "model.ms_weight=1.0",
                                          "model.cover_weight=1.0", "model.r1_gamma=1.0", "model.r1_every=2"]))
    g = load_generator(run / "export")
    assert g.class_names == [str(i) for i in range(10)] and g.latent_dim == 8
    assert (run / "export" / "samples.png").stat().st_size > 1000
    assert (run / "samples" / "epoch_000.png").exists()
    rows = list(csv.DictReader(open(run / "csv" / "metrics.csv")))
    keys = set(rows[0])
    assert {"train/g_loss", "train/d_loss", "train/d_real", "train/d_fake", "train/ms_loss", "train/cover", "train/r1"} <= keys
    card = json.loads((run / "export" / "card.json").read_text())
    assert card["dataset"] == "mnist" and card["steps"] == 256 // 32 * 2
    # the Lightning checkpoint describes itself: loads with weights_only and no Hydra
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True, map_location="cpu")
    module = GANModule(**ckpt["hyper_parameters"])
    module.load_state_dict(ckpt["state_dict"])
    z, y = torch.randn(3, 8), torch.arange(3)
    with torch.no_grad():
        assert torch.allclose(module.g_ema.eval()(z, y), g(z, y))
        # ... and the app's loader reads the same EMA generator from the .ckpt itself
        assert torch.allclose(load_generator(run / "checkpoints" / "last.ckpt")(z, y), g(z, y))


def test_diagnostics_are_logged_only_on_the_batches_the_logger_writes(tmp_path, monkeypatch):
    calls, log_dict = [], GANModule.log_dict
    monkeypatch.setattr(GANModule, "log_dict", lambda self, values, **kw: (calls.append(set(values)),
                                                                           log_dict(self, values, **kw)))
    run = train(compose_cfg(tmp_path, [*LOG_EVERY_4TH, "model.ms_weight=1.0"]))
    assert [c for c in calls if c & {"train/d_real", "train/ms_loss"}] == [  # batches 4 and 8 of 8
        {"train/d_real", "train/d_fake"}, {"train/ms_loss"}] * 2
    written = [r for r in csv.DictReader(open(run / "csv" / "metrics.csv")) if r["train/d_real"]]
    assert [int(r["step"]) for r in written] == [3, 7] and all(r["train/ms_loss"] for r in written)


@pytest.mark.parametrize("every_s, logged_batches", [(1e9, [0, 3, 7]), (0.0, list(range(8)))])
def test_losses_are_logged_on_the_loggers_batches_and_at_most_every_half_second(
        tmp_path, monkeypatch, every_s, logged_batches):
    calls, log = [], GANModule.log
    monkeypatch.setattr(GANModule, "loss_log_every_s", every_s)
    monkeypatch.setattr(GANModule, "log", lambda self, name, value, **kw: (
        calls.append((name, self.trainer.fit_loop.epoch_loop.batch_idx)), log(self, name, value, **kw)))
    run = train(compose_cfg(tmp_path, LOG_EVERY_4TH))
    assert [b for name, b in calls if name == "train/d_loss"] == logged_batches  # first batch: at once
    assert [b for name, b in calls if name == "train/g_loss"] == logged_batches
    written = [r for r in csv.DictReader(open(run / "csv" / "metrics.csv")) if r["train/d_loss"]]
    assert [int(r["step"]) for r in written] == [3, 7] and all(r["train/g_loss"] for r in written)


def test_wandb_offline_writes_metrics_and_images(tmp_path, monkeypatch):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    run = train(compose_cfg(tmp_path, [*TINY_RUN, "logger=wandb", "callbacks.metrics.monitor=fid",
                                       "callbacks.metrics.every_n_batches=1"]))
    (offline,) = (run / "wandb").glob("offline-run-*")
    images = list((offline / "files" / "media" / "images").glob("samples_*.png"))
    assert images, "sample grid not logged as a W&B image"
    records = wandb_records(next(offline.glob("*.wandb")))
    by_kind = lambda k: [r for r in records if r.WhichOneof("record_type") == k]  # noqa: E731
    key = lambda item: item.key or "/".join(item.nested_key)  # noqa: E731
    history_keys = {key(i) for r in by_kind("history") for i in r.history.item}
    assert {"train/g_loss", "train/d_loss", "train/d_real", "train/d_fake"} <= history_keys
    config_keys = {key(i) for r in by_kind("config") for i in r.config.update}
    assert {"model", "lr_g"} <= config_keys
    artifacts = [r.artifact for r in by_kind("artifact")]
    assert {a.type for a in artifacts} == {"model"} and all(a.name.startswith("generator-") for a in artifacts)
    # `best` follows the monitored metric: the lowest val/fid the callback measured
    fids = [json.loads(line)["fid"] for line in (run / "quality.jsonl").read_text().splitlines()]
    assert len(fids) == 9  # every batch (8) and the epoch end
    if min(fids) == fids[-1]:  # the final generator is the best one: one artifact, both aliases
        assert [list(a.aliases) for a in artifacts] == [["latest", "best"]]
        assert not (run / "export-best").exists()
    else:
        # best logged first, the final one last (W&B gives every new version `latest`; the
        # newest keeps it): versions [best(, latest)] then [latest]
        assert len(artifacts) == 2 and "best" in artifacts[0].aliases
        assert list(artifacts[1].aliases) == ["latest"]
        card = json.loads((run / "export-best" / "card.json").read_text())
        assert card["selected"].startswith(f"best fid = {min(fids):.4g}")
        assert card["metrics"]["val/fid"] == min(fids)
        assert load_generator(run / "export-best").state_dict().keys() == load_generator(run / "export").state_dict().keys()


def _cli(tmp_path, *args, timeout=600, env=None):
    return subprocess.run([sys.executable, "-m", "gan.train", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def test_cli_trains_on_an_image_folder_and_exports_its_class_names(tmp_path, image_folder):
    """3 classes of PNGs of different sizes, one truncated PNG, one text file: it trains, says
    what it skipped and that no judge scores it, and the export carries the folder names."""
    run = tmp_path / "run"
    out = _cli(tmp_path, "experiment=image_folder", f"data.path={image_folder}",
               "data.batch_size=6", "model.g_width=8", "model.d_width=8", "model.latent_dim=8",
               "trainer.max_epochs=1", "trainer.enable_progress_bar=false", f"hydra.run.dir={run}",
               env={"GAN_CACHE_DIR": str(tmp_path / "cache")})
    assert out.returncode == 0, out.stderr[-3000:]
    g = load_generator(run / "export")
    assert g.class_names == ["apple", "banana", "cherry"] and g.img_shape == (3, 32, 32)
    with torch.no_grad():
        images = g(torch.randn(3, g.latent_dim), torch.arange(3))
    assert images.shape == (3, 3, 32, 32) and images.abs().max() <= 1
    assert "skipped 1 unreadable image(s): banana/broken.png" in out.stdout
    assert "QualityMetrics: no quality metrics for this run (no judge for image_folder" in out.stdout
    assert not (run / "quality.jsonl").exists()
    card = json.loads((run / "export" / "card.json").read_text())
    assert card["dataset"] == "image_folder" and card["steps"] == 18 // 6 * 2
    assert list((tmp_path / "cache" / "images").glob("*fruit-*.safetensors"))


def test_cli_multirun_two_losses(tmp_path):
    out = _cli(tmp_path, "-m", "model.loss=lsgan,hinge", *TINY_RUN, f"hydra.sweep.dir={tmp_path}",
               "callbacks.checkpoint.save_last=false")
    assert out.returncode == 0, out.stderr[-2000:]
    cards = [json.loads((tmp_path / str(i) / "export" / "card.json").read_text()) for i in (0, 1)]
    assert [c["loss"] for c in cards] == ["lsgan", "hinge"]



def test_ddp_two_processes_on_cpu(tmp_path):
    out = _cli(tmp_path, "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2", *TINY_RUN,
               f"hydra.run.dir={tmp_path}")
    assert out.returncode == 0, out.stderr[-3000:]
    log = out.stdout + out.stderr
    assert "GLOBAL_RANK: 1" in log or "Initializing distributed: GLOBAL_RANK: 1" in log
    card = json.loads((tmp_path / "export" / "card.json").read_text())
    # each of the 2 processes sees half of the 256 images: 4 batches of 32, a D and a G step each
    assert card["steps"] == 256 // 2 // 32 * 2
    assert load_generator(tmp_path / "export").latent_dim == 8


def test_samples_and_a_live_generator_come_before_an_epoch_ends_and_the_end_says_why(tmp_path, capsys):
    """No epoch-end grid here (every 1000 epochs): what shows up comes from `every_s`. The run
    stops at its first quality measurement (target 0%) and says so, with the export's path."""
    run = train(compose_cfg(tmp_path, [*TINY_RUN, "callbacks.samples.every_n_epochs=1000",
                                       "callbacks.samples.every_s=0.001", "callbacks.metrics.per_class=10",
                                       "callbacks.metrics.every_n_epochs=0", "callbacks.metrics.every_n_batches=2",
                                       "callbacks.metrics.stop_at=0.0"]))
    assert (run / "samples" / "latest.png").exists() and not (run / "samples" / "epoch_000.png").exists()
    assert "live, after" in json.loads((run / "live" / "card.json").read_text())["title"]
    assert load_generator(run / "live").latent_dim == 8
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "finished" and status["batches_done"] == 2 and status["epoch"] == 0
    assert status["message"].startswith("class accuracy") and status["live"] == "live"
    out = capsys.readouterr().out
    assert "Stopped early: class accuracy" in out and f"Generator: {run / 'export'}" in out


@pytest.mark.parametrize("share, steps", [(0.0, 16), (1e-6, 2)])
def test_live_snapshots_keep_to_their_share_of_the_runs_time(tmp_path, share, steps):
    """Even a tiny net's snapshot takes milliseconds: at a share of 1e-6 the next one would wait
    hours, so the live generator stays the one after the first batch (2 steps: D and G); at 0 it
    is refreshed after every batch, the last after the 8th (16 steps)."""
    run = train(compose_cfg(tmp_path, [*TINY_RUN, "callbacks.samples.every_n_epochs=1000",
                                       "callbacks.samples.every_s=0.001", f"callbacks.samples.max_share={share}",
                                       "callbacks.metrics.every_n_epochs=0"]))
    title = json.loads((run / "live" / "card.json").read_text())["title"]
    assert f"after {steps} steps of" in title, title


def test_terminal_bar_counts_epochs_from_one_and_lightnings_advert_is_dropped(caplog):
    from types import SimpleNamespace

    from gan.progress_bar import EpochProgressBar

    bar = EpochProgressBar()
    bar._trainer = SimpleNamespace(max_epochs=3)
    assert bar._get_train_description(0) == "Epoch 1/3" and bar._get_train_description(2) == "Epoch 3/3"
    from pytorch_lightning.utilities.rank_zero import rank_zero_info

    with caplog.at_level("INFO"):
        rank_zero_info("💡 Tip: try installing [litlogger](https://pypi.org/project/litlogger/)")
        rank_zero_info("GPU available: False")
    assert "litlogger" not in caplog.text and "GPU available" in caplog.text


def test_a_live_snapshot_rewritten_in_place_always_loads(tmp_path, tiny_generator):
    """The trainer rewrites <run>/live while the app may be loading it: never a missing folder."""
    import threading

    from gan.export import export_generator

    folder = export_generator(tiny_generator, tmp_path / "live", {"title": "live"}, in_place=True)
    stop, errors = threading.Event(), []

    def rewrite():
        while not stop.is_set():
            export_generator(tiny_generator, folder, {"title": "live"}, in_place=True)

    writer = threading.Thread(target=rewrite)
    writer.start()
    try:
        from gan import checkpoints

        for _ in range(40):
            try:
                checkpoints._load.cache_clear()
                assert checkpoints.load_generator(folder).latent_dim == 8
            except Exception as e:  # noqa: BLE001 - collected for the assertion below
                errors.append(repr(e))
    finally:
        stop.set()
        writer.join()
    assert errors == []


def test_learning_rates_decay_linearly_from_the_hparams_even_on_resume(tmp_path):
    from gan.module import lr_factor

    assert [lr_factor(u, 10, 4) for u in (0, 10, 11, 13, 14, 99)] == [1.0, 1.0, 0.75, 0.25, 0.0, 0.0]
    assert lr_factor(10**6, 0, 0) == 1.0

    def lrs(run):  # (G, D) learning rates the run's last.ckpt holds
        states = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["optimizer_states"]
        return [state["param_groups"][0]["lr"] for state in states]

    first = train(compose_cfg(tmp_path / "a", [*TINY_RUN, "logger=csv", "model=resnet"]))  # 8 G updates
    ckpt = first / "checkpoints" / "last.ckpt"
    assert lrs(first) == [2e-4, 4e-4]
    # resumed for a second epoch with a decay starting at update 8 over 16: the last step (update 15) runs at 1 - 7/16
    second = train(compose_cfg(tmp_path / "b", [*TINY_RUN, "logger=csv", "model=resnet", "trainer.max_epochs=2",
                                                "model.lr_decay_start=8", "model.lr_decay_batches=16",
                                                f"ckpt_path={ckpt}"]))
    assert lrs(second) == pytest.approx([2e-4 * 9 / 16, 4e-4 * 9 / 16])


def test_a_resumed_runs_eta_comes_from_the_batches_it_trained_itself(tmp_path):
    """Resumed after 8 batches, stopped by its quality check after 2 more (10 of 16): the time
    left is this process's time per batch times the 6 left, not its time over all 10 batches."""
    first = train(compose_cfg(tmp_path / "a", [*TINY_RUN, "logger=csv"]))  # 8 batches
    second = train(compose_cfg(tmp_path / "b", [*TINY_RUN, "logger=csv", "trainer.max_epochs=2",
                                                "callbacks.metrics.per_class=10", "callbacks.metrics.every_n_epochs=0",
                                                "callbacks.metrics.every_n_batches=2", "callbacks.metrics.stop_at=0.0",
                                                f"ckpt_path={first / 'checkpoints' / 'last.ckpt'}"]))
    status = json.loads((second / "status.json").read_text())
    assert (status["batches_done"], status["total_batches"]) == (10, 16)
    assert status["eta_s"] == pytest.approx(status["elapsed_s"] / 2 * 6, abs=0.1)


def test_a_run_resumes_into_a_class_head_on_d(tmp_path):
    """`model.ac_weight` on a run saved without D's class head: the head starts fresh, is trained
    (weights moved, Adam state for it), everything else resumes; the CSV log has both losses."""
    first = train(compose_cfg(tmp_path / "a", [*TINY_RUN, "logger=csv", "model=resnet"]))  # 8 G updates
    second = train(compose_cfg(tmp_path / "b", [*TINY_RUN, "logger=csv", "model=resnet", "trainer.max_epochs=2",
                                                "model.ac_weight=0.5",
                                                f"ckpt_path={first / 'checkpoints' / 'last.ckpt'}"]))
    ckpt = torch.load(second / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["g_updates"] == 16
    fresh = GANModule(arch="resnet", latent_dim=8, ac_weight=0.5).discriminator.classifier.state_dict()
    head = {k.removeprefix("discriminator.classifier."): v for k, v in ckpt["state_dict"].items()
            if k.startswith("discriminator.classifier.")}
    assert head.keys() == fresh.keys() and not torch.equal(head["bias"], fresh["bias"])
    d_state = ckpt["optimizer_states"][1]
    assert len(d_state["state"]) == len(d_state["param_groups"][0]["params"])  # Adam moments for every D parameter
    with open(next(second.rglob("metrics.csv"))) as f:
        rows = list(csv.DictReader(f))
    assert any(r.get("train/ac_real") for r in rows) and any(r.get("train/ac_fake") for r in rows)


def test_a_class_head_needs_the_residual_discriminator():
    with pytest.raises(ValueError, match="needs arch resnet"):
        GANModule(arch="conv", ac_weight=0.1)
