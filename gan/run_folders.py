"""Where runs live, how they are named, and who may see one.

A run folder is `<root>/<id>` with `params.json` in it; ids are ours (`YYYYmmdd-HHMMSS-xxxx`)
and checked before any path is built from one. The session that starts a run owns it: a hash
of its owner token is written to `owner.json`. In public mode only the owner sees, reads or
stops a run, and anyone else gets exactly the message of a run that does not exist; in local
mode every run is visible, as are runs started from the command line (they have no owner).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from pathlib import Path

from gan.limits import public_mode, shown
from gan.status import read_json, write_json_atomic

RUNS_ENV = "GAN_RUNS_DIR"
ID_RE = re.compile(r"\d{8}-\d{6}-[0-9a-f]{4}")
OWNER_FILE = "owner.json"


class RunError(RuntimeError):
    """A run cannot be started, found or stopped; the message says why."""


def default_root() -> Path:
    return Path(os.environ.get(RUNS_ENV) or "runs")


def owner_hash(owner: str | None) -> str | None:
    """What is stored for an owner token (a browser's secret or a client's session): its hash."""
    if not owner or not isinstance(owner, str):
        return None
    return hashlib.sha256(f"cgan-studio-owner:{owner}".encode()).hexdigest()


def stamp_owner(folder: Path, owner: str | None) -> None:
    write_json_atomic(folder / OWNER_FILE, {"owner": owner_hash(owner)})


def owns(folder: Path, owner: str | None) -> bool:
    mine, stored = owner_hash(owner), read_json(folder / OWNER_FILE).get("owner")
    return bool(mine and isinstance(stored, str) and hmac.compare_digest(mine, stored))


def visible(folder: Path, owner: str | None) -> bool:
    """May this owner see the run in `folder`? Everyone may in local mode."""
    return not public_mode() or owns(folder, owner)


def run_ids(root: Path) -> list[str]:
    """Every run id under `root`, newest first (ids sort by their start time)."""
    if not root.is_dir():
        return []
    return sorted((p.name for p in root.iterdir() if ID_RE.fullmatch(p.name)
                   and (p / "params.json").is_file()), reverse=True)


def find(root: Path, run_id, owner: str | None) -> Path:
    """The folder of a run this owner may see, or RunError; a run of someone else's and a run
    that does not exist give the same message."""
    if not run_id:
        raise RunError("no run picked: choose one in the runs list")
    if not isinstance(run_id, str) or not ID_RE.fullmatch(run_id):
        raise RunError(f"not a run id: {shown(repr(run_id))} (expected YYYYmmdd-HHMMSS-xxxx)")
    path = root / run_id
    if not (path / "params.json").is_file() or not visible(path, owner):
        raise RunError(f"no run {run_id!r} here (it may have been removed: only the newest "
                       "finished runs are kept)")
    return path
