"""One resolver, one loader, one cache for every checkpoint source.

Sources (`gan.load_generator(source)`):

    mnist, fashion-mnist                        bundled export folders under checkpoints/
    path/to/export                              an export folder (config.json + model.safetensors)
    runs/<id>                                   a training run: its export/, else its newest .ckpt
    path/to/last.ckpt                           a Lightning checkpoint (the EMA generator inside it)
    hf:<repo_id>[@revision]                     a Hugging Face Hub repo holding an export folder
    wandb:<entity>/<project>/<artifact>:<alias> a W&B artifact holding an export folder

Remote references resolve to a local folder through their own client's cache; then one function
loads it. Files are read as safetensors or with `torch.load(weights_only=True)`, never as
arbitrary pickles. Every failure is a `CheckpointError` whose message names the source.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from gan.export import read_card
from gan.nets import Generator

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
CACHE_DIR = Path(os.environ.get("GAN_CACHE_DIR", Path.home() / ".cache" / "cgan-studio"))
WEIGHTS_FILE = "model.safetensors"


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
    """Run folders under `runs_dir` that hold an export or a checkpoint, newest first."""
    runs = [p for p in Path(runs_dir).glob("*")
            if (p / "export" / "config.json").is_file() or any(p.glob("checkpoints/*.ckpt"))]
    return [str(p) for p in sorted(runs, key=lambda p: p.stat().st_mtime, reverse=True)]


# ---------------------------------------------------------------- resolving


def _hf_folder(ref: str) -> Path:
    from huggingface_hub import snapshot_download

    repo_id, _, revision = ref.partition("@")
    return Path(snapshot_download(repo_id, revision=revision or None,
                                  allow_patterns=["*.json", "*.safetensors", "*.md", "*.png"]))


def _wandb_folder(ref: str) -> Path:
    import wandb

    if ref.count("/") != 2 or ":" not in ref:
        raise ValueError("expected wandb:<entity>/<project>/<artifact>:<alias>")
    artifact = wandb.Api().artifact(ref, type="model")
    entity, project, _ = ref.split("/")
    return Path(artifact.download(root=str(CACHE_DIR / "wandb" / entity / project / artifact.name)))


def _local(path: Path) -> Path:
    """An export folder or a .ckpt file for a local path (run folders pick export/ or the newest ckpt)."""
    if path.is_file():
        if path.suffix not in (".ckpt", ".pt"):
            raise ValueError("a file source must be a Lightning .ckpt")
        return path
    if (path / "config.json").is_file():
        return path
    if (path / "export" / "config.json").is_file():
        return path / "export"
    ckpts = sorted(path.glob("checkpoints/*.ckpt"), key=lambda p: p.stat().st_mtime)
    if ckpts:
        return ckpts[-1]
    raise FileNotFoundError("no export folder (config.json + model.safetensors), run folder or .ckpt here")


_REMOTE: dict[str, Path] = {}  # hf:/wandb: reference -> local folder, so renders stay offline


def _remote(text: str, refresh: bool) -> Path:
    if refresh or text not in _REMOTE:
        _REMOTE[text] = _hf_folder(text[3:]) if text.startswith("hf:") else _wandb_folder(text[6:])
    return _REMOTE[text]


def resolve(source: str | Path, refresh: bool = False) -> Path:
    """Local export folder or .ckpt file for `source`. Remote references are fetched into their
    client's cache once per process; `refresh=True` asks the remote again (a moved alias)."""
    text = str(source).strip()
    try:
        if text.startswith(("hf:", "wandb:")):
            return _remote(text, refresh)
        bundled = text in bundled_names()  # a bare bundled name wins over a same-named folder here
        path = BUNDLED_DIR / text if bundled else Path(text).expanduser()
        if not path.exists():
            raise FileNotFoundError("no such file or folder, and not a bundled name "
                                    f"({', '.join(bundled_names()) or 'none bundled'})")
        return _local(path)
    except Exception as e:  # noqa: BLE001 - every client's own failure becomes one clear message
        raise CheckpointError(f"{text}: {_why(e)}") from e


def _why(e: Exception) -> str:
    name = type(e).__name__
    first = str(e).strip().splitlines()[0] if str(e).strip() else ""
    if "Unpickling" in name:
        return "not a weights-only checkpoint; refusing to unpickle arbitrary objects"
    if "RepositoryNotFound" in name:
        return "repository not found on the Hugging Face Hub (or it is private)"
    if "RevisionNotFound" in name:
        return "revision not found in the repository"
    offline = "LocalEntryNotFound" in name or "OfflineMode" in name
    if offline or isinstance(e, (ConnectionError, TimeoutError)):
        return f"not reachable and not in the local cache (no network?): {first}"
    return f"{first} ({name})" if first else name


# ---------------------------------------------------------------- loading


def _fit(config: dict, state: dict) -> Generator:
    """Build the generator `config` describes and load `state` strictly (every key, every shape)."""
    try:
        generator = Generator(**config)
        generator.load_state_dict(state)
    except (TypeError, ValueError, RuntimeError) as e:
        detail = " ".join(str(e).split())[:300]
        raise ValueError(f"wrong architecture: the weights do not fit the config ({detail})") from e
    return generator


def _generator_from_folder(folder: Path) -> tuple[Generator, dict]:
    from safetensors.torch import load_file

    config = json.loads((folder / "config.json").read_text())
    if not (folder / WEIGHTS_FILE).is_file():
        raise FileNotFoundError(f"{WEIGHTS_FILE} missing in {folder}")
    return _fit(config, load_file(folder / WEIGHTS_FILE)), read_card(folder)


def _generator_from_ckpt(path: Path) -> tuple[Generator, dict]:
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict) or not {"hyper_parameters", "state_dict"} <= set(ckpt):
        raise ValueError("wrong architecture: not a GANModule checkpoint (no hyper_parameters/state_dict)")
    hp = ckpt["hyper_parameters"]
    entry = ckpt.get("generator") or _legacy_generator_entry(hp)  # written by GANModule.on_save_checkpoint
    prefix = entry["state_dict_prefix"]
    generator = _fit(entry["config"], {k[len(prefix):]: v for k, v in ckpt["state_dict"].items()
                                       if k.startswith(prefix)})
    card = {"title": f"{path.name} (training checkpoint)", "dataset": hp.get("dataset"),
            "arch": hp["arch"], "loss": hp.get("loss"), "epochs": ckpt.get("epoch"),
            "steps": ckpt.get("global_step"), "hparams": dict(hp)}
    return generator, card


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


def load_checkpoint(source: str | Path, refresh: bool = False) -> Checkpoint:
    """Resolve `source` and load its generator (cached) and model card facts; `refresh` re-asks
    a remote source (see `resolve`).

    Raises:
        CheckpointError: naming the source, for anything that cannot be resolved or loaded.
    """
    path = resolve(source, refresh)
    try:
        generator, card = _load(path, _stamp(path))
    except Exception as e:  # noqa: BLE001 - wrong architecture, corrupt or unsafe weights, ...
        raise CheckpointError(f"{str(source).strip()}: cannot load a generator from {path} "
                              f"({_why(e)})") from e
    return Checkpoint(str(source).strip(), path, generator, card)


def load_generator(source: str | Path) -> Generator:
    """The generator (eval mode, cached) for any accepted source; see the module docstring."""
    return load_checkpoint(source).generator
