"""One resolver, one loader, one cache for every checkpoint source.

Sources (`gan.load_generator(source)`):

    mnist, fashion-mnist                        bundled export folders under checkpoints/
    run:<id>                                    a run of the app's runs folder (gan.runs)
    path/to/export                              an export folder (config.json + model.safetensors)
    runs/<id>                                   a training run: its export/, else live/, else its newest .ckpt
    path/to/last.ckpt                           a Lightning checkpoint (the EMA generator inside it)
    hf:<repo_id>[@revision]                     a Hugging Face Hub repo holding an export folder
    wandb:<entity>/<project>/<artifact>:<alias> a W&B artifact holding an export folder

Remote references resolve to a local folder through gan.fetch (tokens, size cap, timeout);
then one function loads it, after gan.generator_check vetted the config and the weights.
Files are read as safetensors or with `torch.load(weights_only=True)`, never as arbitrary
pickles. Every failure is a `CheckpointError` whose message names the source.

Public mode (gan.limits): bundled names, the caller's own runs (`run:<id>`) and remote
references load; any other local path is refused with the message a missing one gets.
"""

from __future__ import annotations

import functools
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import torch

from gan.export import WEIGHTS_FILE, read_card
from gan.fetch import FetchError, remote_folder, why
from gan.generator_check import (LoadRefused, check_forward, check_shapes, checked_config,
                                 planned_tensors, read_config, safetensors_shapes)
from gan.limits import public_mode, shown
from gan.nets import Generator

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
RUN_PREFIX = "run:"
RUN_EXPORTS = ("export", "live")  # in a run folder, in this order: the final export, the live snapshot


class CheckpointError(RuntimeError):
    """A checkpoint source cannot be resolved or loaded; the message names the source."""


@dataclass(frozen=True)
class Checkpoint:
    """A loaded generator (eval mode) with the facts its model card holds."""

    source: str
    path: Path
    generator: Generator = field(compare=False)
    card: dict = field(compare=False)


def bundled_names() -> list[str]:
    return sorted(p.name for p in BUNDLED_DIR.glob("*") if (p / "config.json").is_file())


def local_runs(runs_dir: str | Path) -> list[str]:
    """Run folders under `runs_dir` that hold an export, a live snapshot or a checkpoint, newest first."""
    runs = [p for p in Path(runs_dir).glob("*")
            if any((p / name / "config.json").is_file() for name in RUN_EXPORTS) or any(p.glob("checkpoints/*.ckpt"))]
    return [str(p) for p in sorted(runs, key=lambda p: p.stat().st_mtime, reverse=True)]


# ---------------------------------------------------------------- resolving


def _local(path: Path) -> Path:
    """An export folder or a .ckpt file for a local path (run folders pick export/, else the live
    snapshot of a run still training, else the newest ckpt)."""
    if path.is_file():
        if path.suffix not in (".ckpt", ".pt"):
            raise CheckpointError("a file source must be a Lightning .ckpt")
        return path
    if (path / "config.json").is_file():
        return path
    for name in RUN_EXPORTS:
        if (path / name / "config.json").is_file():
            return path / name
    ckpts = sorted(path.glob("checkpoints/*.ckpt"), key=lambda p: p.stat().st_mtime)
    if ckpts:
        return ckpts[-1]
    raise CheckpointError("no export folder (config.json + model.safetensors), run folder or .ckpt here")


def _run_folder(run_id: str, owner: str | None) -> Path:
    from gan.run_folders import default_root, find  # imports the run machinery only when asked

    return find(default_root(), run_id, owner)


def _not_here() -> CheckpointError:
    """Public mode: a local path, a forbidden one and a missing one all get this message."""
    return CheckpointError(f"no such checkpoint here; load a bundled name ({', '.join(bundled_names())}), "
                           "one of your runs (run:<id>), or hf:<owner>/<repo>")


def resolve(source: str | Path, refresh: bool = False, fetch: bool = True,
            owner: str | None = None) -> Path:
    """Local export folder or .ckpt file for `source`.

    Args:
        refresh: ask a remote source again (a moved alias); see gan.fetch for how often.
        fetch: False: remote sources only if this process fetched them already.
        owner: the caller's owner token, for `run:<id>` sources in public mode.
    """
    text = str(source).strip()
    try:
        if text.startswith(("hf:", "wandb:")):
            return remote_folder(text, fetch, refresh)
        if text.startswith(RUN_PREFIX):
            return _local(_run_folder(text[len(RUN_PREFIX):], owner))
        if text in bundled_names():  # a bare bundled name wins over a same-named folder here
            return _local(BUNDLED_DIR / text)
        if public_mode():
            raise _not_here()
        path = Path(text).expanduser()
        if not path.exists():
            raise CheckpointError("no such file or folder, and not a bundled name "
                                  f"({', '.join(bundled_names()) or 'none bundled'})")
        return _local(path)
    except Exception as e:  # noqa: BLE001 - every client's own failure becomes one clear message
        raise CheckpointError(f"{shown(text)}: {_why(e)}") from e


def _why(e: Exception) -> str:
    from gan.run_folders import RunError

    if isinstance(e, (CheckpointError, LoadRefused, FetchError, RunError)):
        return str(e)
    if "Unpickling" in type(e).__name__:
        return "not a weights-only checkpoint; refusing to unpickle arbitrary objects"
    return why(e)


# ---------------------------------------------------------------- loading


def _fit(config: dict, state: dict) -> Generator:
    """The generator `config` describes with `state` loaded strictly, checked by one forward pass."""
    generator = Generator(**config)
    try:
        generator.load_state_dict(state)
    except RuntimeError:
        raise LoadRefused("wrong architecture: the weights do not fit config.json") from None
    check_forward(generator.eval())
    return generator


def _generator_from_folder(folder: Path) -> tuple[Generator, dict]:
    from safetensors.torch import load_file

    config = read_config(folder / "config.json")
    planned = planned_tensors(config)  # nothing allocated yet
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise LoadRefused(f"{WEIGHTS_FILE} missing")
    check_shapes(safetensors_shapes(weights), planned, WEIGHTS_FILE)
    return _fit(config, load_file(weights)), read_card(folder)


def _generator_from_ckpt(path: Path) -> tuple[Generator, dict]:
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    try:
        hp = ckpt["hyper_parameters"]
        entry = ckpt.get("generator") or _legacy_generator_entry(hp)  # written by GANModule.on_save_checkpoint
        config, prefix = dict(entry["config"]), str(entry["state_dict_prefix"])
        state = {k[len(prefix):]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)}
    except (KeyError, IndexError, TypeError, AttributeError):
        raise LoadRefused("wrong architecture: not a GANModule checkpoint "
                          "(no hyper_parameters/state_dict)") from None
    if isinstance(config.get("img_shape"), tuple):
        config["img_shape"] = list(config["img_shape"])
    config = checked_config(config)
    check_shapes({k: tuple(v.shape) for k, v in state.items()}, planned_tensors(config),
                 "the checkpoint's EMA generator")
    card = {"title": f"{path.name} (training checkpoint)", "dataset": hp.get("dataset"),
            "arch": config.get("arch"), "loss": hp.get("loss"), "epochs": ckpt.get("epoch"),
            "steps": ckpt.get("global_step"), "hparams": dict(hp)}
    return _fit(config, state), card


def _legacy_generator_entry(hp: dict) -> dict:
    """Checkpoints written before they carried their generator's config (round one)."""
    config = {"arch": hp["arch"], "latent_dim": hp["latent_dim"], "num_classes": hp["num_classes"],
              "img_shape": hp["img_shape"], "class_names": hp.get("class_names"),
              "width": hp.get("g_width", 32)}
    return {"config": config, "state_dict_prefix": "g_ema."}


@functools.lru_cache(maxsize=8)
def _load(path: Path, stamp: int) -> tuple[Generator, dict]:
    """Cached on the resolved path and its weights' mtime, so a re-exported run reloads."""
    loader = _generator_from_ckpt if path.is_file() else _generator_from_folder
    generator, card = loader(path)
    return generator.eval().requires_grad_(False), card


def _stamp(path: Path) -> int:
    weights = path if path.is_file() else path / WEIGHTS_FILE
    return weights.stat().st_mtime_ns if weights.exists() else 0


def load_checkpoint(source: str | Path, refresh: bool = False, fetch: bool = True,
                    owner: str | None = None) -> Checkpoint:
    """Resolve `source` and load its generator (cached) and model card facts; `refresh`,
    `fetch` and `owner` as for `resolve`.

    Raises:
        CheckpointError: naming the source, for anything that cannot be resolved or loaded.
    """
    text = str(source).strip()
    path = resolve(text, refresh, fetch, owner)
    try:
        generator, card = _load(path, _stamp(path))
    except Exception as e:  # noqa: BLE001 - wrong architecture, corrupt or unsafe weights, ...
        message = _why(e)
        traceback.clear_frames(e.__traceback__)  # a failed load keeps no tensor alive
        where = "" if public_mode() else f" from {path}"
        raise CheckpointError(f"{shown(text)}: cannot load a generator{where} ({message})") from e
    return Checkpoint(text, path, generator, card)


def load_generator(source: str | Path, fetch: bool = True, owner: str | None = None) -> Generator:
    """The generator (eval mode, cached) for any accepted source; see the module docstring."""
    return load_checkpoint(source, fetch=fetch, owner=owner).generator
