"""Run supervisor: starts `python -m gan.train` as its own process group, stops it, and tells
the truth about every run folder, also after the app restarted.

    <root>/<id>/params.json   what was asked (RunParams)      <root>/<id>/output.log  stdout+stderr
    <root>/<id>/process.json  pid, pid_start, command          <root>/<id>/STOP        stop request
    <root>/<id>/status.json   see gan.status: the trainer's while it runs, ours once it is gone
    <root>/<id>/checkpoints/, samples/, export/, metrics.jsonl written by the trainer

The root is `$GAN_RUNS_DIR` (default `runs`). Ids are ours (`YYYYmmdd-HHMMSS-xxxx`) and checked
before any path is built from one. The trainer runs with a lower CPU priority
(niceness `$GAN_TRAIN_NICE`, default 10) and `$GAN_TRAIN_THREADS` torch threads (default half
the cores), so the app stays responsive while it trains.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from gan.datasets import DataError
from gan.run_params import UPLOAD, Limits, ParamError, RunParams, space_limits, to_overrides, validate
from gan.status import (LIVE_STATES, STATUS_FILE, STOP_FILE, artifacts, process_start_time,
                        read_json, write_json_atomic)
from gan.uploads import UPLOAD_FILE, check_upload, store_upload, upload_overrides

RUNS_ENV = "GAN_RUNS_DIR"
ID_RE = re.compile(r"\d{8}-\d{6}-[0-9a-f]{4}")
REPO_ROOT = Path(__file__).resolve().parent.parent
LOG_FILE = "output.log"
PROCESS_FILE = "process.json"


class RunError(RuntimeError):
    """A run cannot be started, found or stopped; the message says why."""


def default_root() -> Path:
    return Path(os.environ.get(RUNS_ENV) or "runs")


def new_id() -> str:
    return f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def alive(process: dict) -> bool:
    """Is the recorded process still running, and is it still the same process (not a reused PID)?"""
    pid, started = process.get("pid"), process.get("pid_start")
    if not isinstance(pid, int) or pid <= 0:
        return False
    return started is not None and process_start_time(pid) == started


class Supervisor:
    """Owns one runs folder. Safe to create again at any time: all state lives on disk."""

    def __init__(self, root: str | Path | None = None, max_running: int | None = None,
                 limits: Limits | None | str = "auto"):
        self.root = Path(root) if root else default_root()
        self.limits = space_limits() if limits == "auto" else limits
        self.max_running = ((self.limits and self.limits.max_running) or max_running
                            or int(os.environ.get("GAN_MAX_RUNS", "1")))
        self.procs: dict[str, subprocess.Popen] = {}  # children of this process, to reap them
        self.lock = threading.Lock()

    def folder(self, run_id: str) -> Path:
        if not run_id:
            raise RunError("no run picked: choose one in the runs list")
        if not isinstance(run_id, str) or not ID_RE.fullmatch(run_id):
            raise RunError(f"not a run id: {run_id!r} (expected YYYYmmdd-HHMMSS-xxxx)")
        path = self.root / run_id
        if not (path / "params.json").is_file():
            raise RunError(f"no run {run_id!r} in {self.root}")
        return path

    def start(self, params: RunParams | dict) -> str:
        """Validate `params`, launch the trainer, return the new run's id (nothing starts on error)."""
        if self.limits is None:
            raise RunError("training is off on this Space; set GAN_SPACE_TRAINING=1 to allow "
                           "short bounded runs")
        if isinstance(params, dict):
            params = RunParams.from_dict(params)
        params = validate(params, self.limits)
        if params.dataset == UPLOAD:
            try:
                check_upload(params.upload)
            except DataError as e:
                raise ParamError(f"upload: {e}") from None
        overrides = to_overrides(params, self.root)
        with self.lock:  # two clicks at once must not both pass the check
            busy = [r["id"] for r in self.list() if r["state"] in LIVE_STATES]
            if len(busy) >= self.max_running:
                raise RunError(f"{len(busy)} run(s) already running ({', '.join(busy)}); at most "
                               f"{self.max_running} at a time. Stop one or wait for it to finish.")
            return self.launch(params, overrides)

    def launch(self, params: RunParams, overrides: list[str]) -> str:
        run_id = new_id()
        folder = self.root / run_id
        folder.mkdir(parents=True)
        if params.dataset == UPLOAD:  # the run keeps its own copy: it goes away with the run
            store_upload(params.upload, folder)
            overrides = [*overrides, *upload_overrides(folder, params.image_size, params.channels)]
            params = replace(params, upload=UPLOAD_FILE)
        argv = [sys.executable, "-m", "gan.train", *overrides, f"hydra.run.dir={folder.resolve()}"]
        with open(folder / LOG_FILE, "wb") as log:
            proc = subprocess.Popen(argv, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True, env=child_env())
        lower_priority(proc.pid)
        self.procs[run_id] = proc
        write_json_atomic(folder / PROCESS_FILE, {
            "pid": proc.pid, "pid_start": process_start_time(proc.pid), "command": argv[1:]})
        # last: a folder without params.json is not a run yet, so nobody judges it half-made
        write_json_atomic(folder / "params.json", params.to_dict())
        return run_id

    def status(self, run_id: str) -> dict:
        """The run's status with the truth about its process, and absolute artifact paths."""
        folder = self.folder(run_id)
        status = self.reconcile(run_id, folder)
        files = {k: str((folder / v).resolve()) if v else None for k, v in artifacts(folder).items()}
        return {**status, **files, "id": run_id, "folder": str(folder.resolve()),
                "params": read_json(folder / "params.json")}

    def reconcile(self, run_id: str, folder: Path) -> dict:
        """status.json, corrected when its process is gone but it still claims to be live."""
        process = read_json(folder / PROCESS_FILE)
        status = read_json(folder / STATUS_FILE) or {"state": "starting", **process}
        if status.get("state") not in LIVE_STATES or self.running(run_id, process):
            return status
        status = read_json(folder / STATUS_FILE) or {"state": "starting", **process}  # finished meanwhile?
        if status["state"] in LIVE_STATES:
            stopped = (folder / STOP_FILE).exists()
            status.update(state="stopped" if stopped else "failed", updated=time.time(),
                          message="stopped on request (process ended)" if stopped else
                          f"trainer process {status.get('pid')} is gone; see {LOG_FILE}")
            write_json_atomic(folder / STATUS_FILE, status)
        return status

    def list(self) -> list[dict]:
        """Every run in the root, newest first, with its true state."""
        ids = sorted((p.name for p in self.root.glob("*") if ID_RE.fullmatch(p.name)
                      and (p / "params.json").is_file()), reverse=True) if self.root.is_dir() else []
        return [self.status(i) for i in ids]

    def stop(self, run_id: str, grace_s: float = 60.0, term_s: float = 15.0) -> dict:
        """Ask the trainer to stop (it checkpoints and exports), then SIGTERM, then SIGKILL.

        Returns once the process is gone, with the run's final status."""
        folder = self.folder(run_id)
        process = read_json(folder / PROCESS_FILE)
        if self.running(run_id, process):
            (folder / STOP_FILE).touch()
        for sig, wait_s in ((None, grace_s), (signal.SIGTERM, term_s), (signal.SIGKILL, 5.0)):
            if not self.running(run_id, process):
                break
            if sig is not None:
                signal_group(process, sig)
            deadline = time.time() + wait_s
            while self.running(run_id, process) and time.time() < deadline:
                time.sleep(0.2)
        return self.status(run_id)

    def running(self, run_id: str, process: dict) -> bool:
        if run_id in self.procs and self.procs[run_id].poll() is not None:
            self.procs.pop(run_id)  # reaped: no zombie keeps its PID looking alive
        return alive(process)


def signal_group(process: dict, sig: int) -> None:
    """Signal the trainer's process group, only if the recorded process is still ours."""
    if alive(process):
        try:
            os.killpg(process["pid"], sig)  # start_new_session: the group id is the trainer's pid
        except ProcessLookupError:
            pass


def child_env() -> dict:
    threads = os.environ.get("GAN_TRAIN_THREADS") or str(max(1, (os.cpu_count() or 2) // 2))
    return {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads}


def lower_priority(pid: int) -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, pid, int(os.environ.get("GAN_TRAIN_NICE", "10")))
    except OSError:
        pass  # not fatal: the run just competes with the app at normal priority


_default: Supervisor | None = None


def supervisor() -> Supervisor:
    """The app's supervisor for `$GAN_RUNS_DIR`, created on first use."""
    global _default
    if _default is None:
        _default = Supervisor()
    return _default


def start(params: RunParams | dict) -> str:
    return supervisor().start(params)


def stop(run_id: str) -> dict:
    return supervisor().stop(run_id)


__all__ = ["ParamError", "RunError", "RunParams", "Supervisor", "start", "stop", "supervisor"]
