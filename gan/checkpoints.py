"""Resolve a checkpoint source to a local export folder and load the generator from it."""

from __future__ import annotations

from pathlib import Path

from gan.nets import Generator

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "checkpoints"


class CheckpointError(RuntimeError):
    """A checkpoint source cannot be resolved or loaded; the message names the source."""


def resolve(source: str | Path) -> Path:
    path = Path(source).expanduser()
    if not path.exists() and (BUNDLED_DIR / str(source)).is_dir():
        path = BUNDLED_DIR / str(source)
    if not (path / "config.json").exists():
        raise CheckpointError(f"{source}: no export folder here (expected config.json + model.safetensors)")
    return path


def load_generator(source: str | Path) -> Generator:
    """Load a generator from an export folder (or a bundled name) in eval mode."""
    folder = resolve(source)
    try:
        return Generator.from_pretrained(folder).eval()
    except Exception as e:  # noqa: BLE001 - any failure here is a bad checkpoint
        raise CheckpointError(f"{source}: cannot load generator ({e})") from e
