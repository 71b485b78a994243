"""The run supervisor with real trainer processes on real MNIST (tiny networks, few batches)."""

import json
import os
import signal
import time

import pytest
import torch

from gan import load_generator
from gan.module import GANModule
from gan.limits import Limits
from gan.run_params import RunParams
from gan.runs import RunError, Supervisor
from gan.status import process_start_time, write_json_atomic

TINY = "model.g_width=8\nmodel.d_width=8\nmodel.latent_dim=8\ntrainer.log_every_n_steps=1"
# long enough to be caught running (hundreds of batches), stopped long before its end
LONG = RunParams(epochs=50, batch_size=16, limit_batches=40, logger="csv", overrides=TINY)


def wait_for(sup: Supervisor, run_id: str, ok, timeout_s: float = 180.0) -> dict:
    deadline = time.time() + timeout_s
    while not ok(status := sup.status(run_id)):
        assert time.time() < deadline, f"timed out; last status {status}"
        time.sleep(0.3)
    return status


def training(status: dict) -> bool:
    assert status["state"] in ("starting", "running"), status
    return status["state"] == "running" and status.get("batches_done", 0) >= 3


def test_stop_mid_run_leaves_loadable_checkpoint_and_second_start_is_refused(tmp_path):
    sup = Supervisor(tmp_path, max_running=1, limits=Limits())
    run_id = sup.start(LONG)
    running = wait_for(sup, run_id, training)
    assert running["pid"] == json.loads((tmp_path / run_id / "process.json").read_text())["pid"]
    assert 0 < running["progress"] < 1 and running["eta_s"] > 0 and "train/g_loss" in running["metrics"]

    with pytest.raises(RunError, match=r"already running .*at most 1 at a time"):
        sup.start(LONG)
    assert [p.name for p in tmp_path.iterdir()] == [run_id]

    assert sup.stop(run_id)["state"] == "stopping"  # returns at once; the trainer winds down
    sup.join_stop(run_id, timeout=120)
    final = sup.status(run_id)
    assert final["state"] == "stopped" and final["message"] == "stopped on request"
    assert process_start_time(running["pid"]) is None
    ckpt = torch.load(final["checkpoint"], weights_only=True, map_location="cpu")
    module = GANModule(**ckpt["hyper_parameters"])
    module.load_state_dict(ckpt["state_dict"])
    assert 0 < ckpt["global_step"] < 50 * 40 * 2
    assert load_generator(final["export"]).latent_dim == 8
    assert final["params"] == LONG.to_dict()


def fake_run(root, run_id: str, state: str, pid: int, pid_start, stop: bool = False) -> None:
    folder = root / run_id
    folder.mkdir()
    write_json_atomic(folder / "params.json", RunParams().to_dict())
    write_json_atomic(folder / "process.json", {"pid": pid, "pid_start": pid_start})
    write_json_atomic(folder / "status.json", {"state": state, "pid": pid, "pid_start": pid_start})
    if stop:
        (folder / "STOP").touch()


def test_kill_9_then_restart_every_run_has_its_true_state(tmp_path):
    sup = Supervisor(tmp_path, limits=Limits())
    killed = sup.start(LONG)
    pid = wait_for(sup, killed, training)["pid"]
    os.kill(pid, signal.SIGKILL)
    deadline = time.time() + 10
    while process_start_time(pid) is not None and time.time() < deadline:  # delivery is async
        time.sleep(0.05)

    me = os.getpid()  # a live process that is not a trainer: a reused PID
    fake_run(tmp_path, "20200101-000000-0001", "running", me, process_start_time(me) + 1)
    fake_run(tmp_path, "20200101-000000-0002", "running", 2**22 + 7, 123, stop=True)  # gone, asked to stop
    fake_run(tmp_path, "20200101-000000-0003", "finished", 2**22 + 7, 123)
    fake_run(tmp_path, "20200101-000000-0004", "running", me, None)  # no start time: cannot be ours

    restarted = Supervisor(tmp_path, limits=Limits())  # the app restarted: nothing but the folder
    states = {r["id"]: r["state"] for r in restarted.list()}
    assert states == {killed: "failed", "20200101-000000-0001": "failed",
                      "20200101-000000-0002": "stopped", "20200101-000000-0003": "finished",
                      "20200101-000000-0004": "failed"}
    assert f"trainer process {pid} is gone" in restarted.status(killed)["message"]
    on_disk = json.loads((tmp_path / killed / "status.json").read_text())
    assert on_disk["state"] == "failed"  # written back: the next reader sees the truth too
    sup.procs[killed].wait(timeout=10)  # reap the child killed above


def test_stop_escalates_to_sigterm_when_the_trainer_does_not_answer(tmp_path):
    sup = Supervisor(tmp_path, limits=Limits())
    run_id = sup.start(LONG)  # still importing torch: nobody is reading the STOP file yet
    pid = json.loads((tmp_path / run_id / "process.json").read_text())["pid"]
    t0 = time.time()
    sup.stop(run_id, grace_s=0.5, term_s=20)
    sup.join_stop(run_id, timeout=30)
    final = sup.status(run_id)
    assert final["state"] == "stopped" and "process ended" in final["message"]
    assert process_start_time(pid) is None and time.time() - t0 < 20


def test_a_start_keeps_the_newest_finished_runs_and_every_live_one(tmp_path, monkeypatch):
    monkeypatch.delenv("GAN_KEEP_RUNS", raising=False)  # local mode default: 20
    me = os.getpid()
    for i in range(30):
        fake_run(tmp_path, f"20200101-0000{i:02d}-0001", "finished", 2**22 + 7, 123)
    fake_run(tmp_path, "20190101-000000-0002", "running", me, process_start_time(me))  # oldest, live
    sup = Supervisor(tmp_path, max_running=2, limits=Limits())
    run_id = sup.start(LONG)
    sup.stop(run_id, grace_s=0, term_s=0)  # not needed to train: it only had to start
    sup.join_stop(run_id, timeout=30)
    left = sorted(p.name for p in tmp_path.iterdir())  # 30 finished -> the newest 20, and the live ones
    assert left == ["20190101-000000-0002", *[f"20200101-0000{i:02d}-0001" for i in range(10, 30)], run_id]
