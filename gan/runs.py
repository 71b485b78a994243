"""Run supervisor: starts `python -m gan.train` as its own process group, stops it, and tells
the truth about every run folder, also after the app restarted.

    <root>/<id>/params.json   what was asked (RunParams)      <root>/<id>/output.log  stdout+stderr
    <root>/<id>/process.json  pid, pid_start, command          <root>/<id>/STOP        stop request
    <root>/<id>/owner.json    hash of the starting session's owner token (gan.run_folders)
    <root>/<id>/status.json   see gan.status: the trainer's while it runs, ours once it is gone
    <root>/<id>/checkpoints/, samples/, export/, metrics.jsonl written by the trainer

The root is `$GAN_RUNS_DIR` (default `runs`). The trainer runs with a lower CPU priority
(niceness `$GAN_TRAIN_NICE`, default 10) and `$GAN_TRAIN_THREADS` torch threads (default half
the cores), so the app stays responsive while it trains. In public mode (gan.limits) every call
takes the caller's owner token and sees only that owner's runs; a trainer started there gets no
secret from the app's environment. Starting a run deletes the oldest finished runs beyond
`gan.limits.keep_runs()`, never a live one.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from gan.datasets import DataError
from gan.limits import (KILL_WAIT_S, SECRET_WORDS, STOP_GRACE_S, TERM_GRACE_S, Limits, keep_runs,
                        public_mode, run_limits)
from gan.run_folders import RunError, default_root, find, run_ids, stamp_owner, visible
from gan.run_params import UPLOAD, ParamError, RunParams, to_overrides, validate
from gan.status import (LIVE_STATES, STATUS_FILE, STOP_FILE, artifacts, process_start_time,
                        read_json, write_json_atomic)
from gan.uploads import UPLOAD_FILE, check_upload, store_upload, upload_overrides

REPO_ROOT = Path(__file__).resolve().parent.parent
LOG_FILE = "output.log"
PROCESS_FILE = "process.json"
ACTIVE = (*LIVE_STATES, "stopping")  # "stopping": live, asked to stop (never written to disk)


def new_id() -> str:
    return f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def alive(process: dict) -> bool:
    """Is the recorded process still running, and is it still the same process (not a reused PID)?"""
    pid, started = process.get("pid"), process.get("pid_start")
    if not isinstance(pid, int) or pid <= 0:
        return False
    return started is not None and process_start_time(pid) == started


class Supervisor:
    """Owns one runs folder. Safe to create again at any time: all state lives on disk.

    `owner` is the caller's owner token (a browser's secret or an API client's session); in
    public mode it decides which runs a caller sees, reads and stops."""

    def __init__(self, root: str | Path | None = None, max_running: int | None = None,
                 limits: Limits | None | str = "auto"):
        self.root = Path(root) if root else default_root()
        self.limits = run_limits() if limits == "auto" else limits
        self.max_running = ((self.limits and self.limits.max_running) or max_running
                            or int(os.environ.get("GAN_MAX_RUNS", "1")))
        self.procs: dict[str, subprocess.Popen] = {}  # children of this process, to reap them
        self.stoppers: dict[str, threading.Thread] = {}  # run id -> its stop escalation
        self.final: dict[str, dict] = {}  # run id -> status of an ended run (it changes no more)
        self.lock = threading.Lock()

    def folder(self, run_id: str, owner: str | None = None) -> Path:
        return find(self.root, run_id, owner)

    def start(self, params: RunParams | dict, owner: str | None = None) -> str:
        """Validate `params`, launch the trainer, return the new run's id (nothing starts on error)."""
        if self.limits is None:
            raise RunError("training is off on this Space; its owner can set GAN_SPACE_TRAINING=1 "
                           "to allow short bounded runs")
        if isinstance(params, dict):
            params = RunParams.from_dict(params)
        params = validate(params, self.limits)
        if params.dataset == UPLOAD:
            try:
                check_upload(params.upload)
            except DataError as e:
                raise ParamError(f"upload: {e}") from None
        overrides = to_overrides(params, self.root, self.limits)
        with self.lock:  # two clicks at once must not both pass the check
            statuses = self.statuses()
            live = [s for s in statuses if s["state"] in ACTIVE]
            if len(live) >= self.max_running:
                raise RunError(self.busy_message(live, owner))
            self.prune(statuses, keep_runs())
            return self.launch(params, overrides, owner)

    def busy_message(self, live: list[dict], owner: str | None) -> str:
        shown = [s["id"] for s in live if visible(self.root / s["id"], owner)]
        named = f" ({', '.join(shown)})" if shown else " (not yours)" if public_mode() else ""
        return (f"{len(live)} run(s) already running{named}; at most {self.max_running} at a time. "
                + ("Stop one or wait for it to finish." if shown else "Try again when it has finished."))

    def prune(self, statuses: list[dict], keep: int) -> None:
        """Delete the oldest ended runs beyond `keep` (statuses newest first); live ones stay."""
        ended = [s["id"] for s in statuses if s["state"] not in ACTIVE]
        for run_id in ended[keep:]:
            shutil.rmtree(self.root / run_id, ignore_errors=True)
            self.final.pop(run_id, None)

    def launch(self, params: RunParams, overrides: list[str], owner: str | None) -> str:
        run_id = new_id()
        folder = self.root / run_id
        folder.mkdir(parents=True)
        stamp_owner(folder, owner)
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

    def status(self, run_id: str, owner: str | None = None) -> dict:
        """The run's status with the truth about its process, and absolute artifact paths."""
        return self.read(run_id, self.folder(run_id, owner))

    def read(self, run_id: str, folder: Path) -> dict:
        if run_id in self.final:
            return dict(self.final[run_id])
        status = self.reconcile(run_id, folder)
        files = {k: str((folder / v).resolve()) if v else None for k, v in artifacts(folder).items()}
        status = {**status, **files, "id": run_id, "folder": str(folder.resolve()),
                  "params": read_json(folder / "params.json")}
        if status["state"] in LIVE_STATES and (folder / STOP_FILE).exists():
            status["state"] = "stopping"
        elif status["state"] not in ACTIVE:
            self.final[run_id] = dict(status)  # the runs table stays cheap with many runs
        return status

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

    def statuses(self) -> list[dict]:
        """Every run in the root, newest first, with its true state, whoever owns it."""
        out = []
        for run_id in run_ids(self.root):
            try:
                out.append(self.read(run_id, self.root / run_id))
            except OSError:
                continue  # deleted meanwhile
        return out

    def list(self, owner: str | None = None) -> list[dict]:
        """The runs this owner may see (all of them in local mode), newest first."""
        return [s for s in self.statuses() if visible(self.root / s["id"], owner)]

    def stop(self, run_id: str, owner: str | None = None, grace_s: float = STOP_GRACE_S,
             term_s: float = TERM_GRACE_S) -> dict:
        """Ask the trainer to stop (it checkpoints and exports); returns at once with state
        `stopping`. A background thread escalates to SIGTERM after `grace_s` and to SIGKILL
        `term_s` later; `join_stop` waits for it."""
        folder = self.folder(run_id, owner)
        process = read_json(folder / PROCESS_FILE)
        if self.running(run_id, process):
            (folder / STOP_FILE).touch()
            with self.lock:
                if run_id not in self.stoppers:
                    thread = threading.Thread(target=self.escalate, name=f"stop-{run_id}", daemon=True,
                                              args=(run_id, process, grace_s, term_s))
                    self.stoppers[run_id] = thread
                    thread.start()
        return self.status(run_id, owner)

    def escalate(self, run_id: str, process: dict, grace_s: float, term_s: float) -> None:
        try:
            for sig, wait_s in ((None, grace_s), (signal.SIGTERM, term_s), (signal.SIGKILL, KILL_WAIT_S)):
                if not self.running(run_id, process):
                    break
                if sig is not None:
                    signal_group(process, sig)
                    signal_group(process, signal.SIGCONT)  # a suspended trainer cannot act on SIGTERM
                deadline = time.time() + wait_s
                while self.running(run_id, process) and time.time() < deadline:
                    time.sleep(0.2)
        finally:
            self.stoppers.pop(run_id, None)

    def join_stop(self, run_id: str, timeout: float | None = None) -> None:
        """Wait for a stop started by `stop` to end (the trainer process is gone)."""
        thread = self.stoppers.get(run_id)
        if thread is not None:
            thread.join(timeout)

    def running(self, run_id: str, process: dict) -> bool:
        proc = self.procs.get(run_id)
        if proc is not None and proc.poll() is not None:
            self.procs.pop(run_id, None)  # reaped: no zombie keeps its PID looking alive
        return alive(process)


def signal_group(process: dict, sig: int) -> None:
    """Signal the trainer's process group, only if the recorded process is still ours."""
    if alive(process):
        try:
            os.killpg(process["pid"], sig)  # start_new_session: the group id is the trainer's pid
        except ProcessLookupError:
            pass


def child_env() -> dict:
    """The trainer's environment; in public mode without the app's secrets (a visitor's run
    must not log to the owner's W&B account) and with W&B offline."""
    threads = os.environ.get("GAN_TRAIN_THREADS") or str(max(1, (os.cpu_count() or 2) // 2))
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": threads,
           "MKL_NUM_THREADS": threads}
    if public_mode():
        env = {k: v for k, v in env.items() if not any(w in k.lower() for w in SECRET_WORDS)}
        env["WANDB_MODE"] = "offline"
    return env


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


def checkpoint_sources(owner: str | None = None) -> list[str]:
    """What the Generate tab offers: bundled names, then runs with a checkpoint, newest first
    (in public mode only the caller's, as run:<id>)."""
    from gan import checkpoints

    if public_mode():
        runs = [f"{checkpoints.RUN_PREFIX}{s['id']}" for s in supervisor().list(owner)
                if s.get("export") or s.get("live") or s.get("checkpoint")]
    else:
        runs = checkpoints.local_runs(supervisor().root)
    return checkpoints.bundled_names() + runs


__all__ = ["ParamError", "RunError", "RunParams", "Supervisor", "checkpoint_sources", "supervisor"]
