"""A folder for per-call files (GIFs) that keeps only the newest ones, so disk use is bounded
however many calls come: at most `max_files` files and `max_bytes` bytes after every write."""

from __future__ import annotations

import os
from pathlib import Path


def prune(folder: Path, max_files: int, max_bytes: int) -> None:
    """Delete the oldest files beyond `max_files`, or beyond `max_bytes` in all (the newest
    file stays whatever its size); files being written (".name.tmp") are left alone."""
    entries = []
    for entry in os.scandir(folder):
        if entry.name.startswith("."):
            continue
        try:
            stat = entry.stat()
        except FileNotFoundError:
            continue  # deleted meanwhile
        entries.append((stat.st_mtime_ns, stat.st_size, entry.path))
    total = 0
    for rank, (_, size, path) in enumerate(sorted(entries, reverse=True)):
        total += size
        if rank > 0 and (rank >= max_files or total > max_bytes):
            Path(path).unlink(missing_ok=True)


def write(folder: Path, name: str, data: bytes, max_files: int, max_bytes: int) -> Path:
    """Write `data` to `folder/name` atomically, then prune the folder; returns the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, path)
    prune(folder, max_files, max_bytes)
    return path
