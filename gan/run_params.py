"""What a person may ask of a training run, checked, and turned into typed Hydra overrides.

Every value is checked for type and range and then written back by us (`key=<canonical value>`),
so nothing the user typed reaches the command line verbatim. The optional advanced overrides
go through Hydra's own override parser and only an allowlist of keys is accepted.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import OverrideType
from hydra.errors import HydraException

from gan.datasets import REGISTRY
from gan.limits import OVERRIDES_BYTES, OVERRIDES_LINES, Limits, shown

UPLOAD = "upload"  # "Upload images (.zip)": a zip of class folders sent with the form (gan.uploads)
# Datasets: the registry's whose files the server holds, and an upload (never a server path).
CHOICES = {"dataset": (*(name for name, spec in REGISTRY.items() if spec.folder), UPLOAD),
           "model": ("conv", "resnet", "mlp"), "loss": ("hinge", "lsgan", "bce"), "logger": ("none", "csv", "wandb"),
           "image_size": (28, 32, 64), "channels": (1, 3)}
PROJECT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
CKPT_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.ckpt")
SAFE_PATH_RE = re.compile(r"[A-Za-z0-9._/-]+")

# advanced override key -> (type, low, high); the form's own fields are not in here
ADVANCED = {"model.beta1": (float, 0.0, 0.999), "model.beta2": (float, 0.0, 0.9999),
            "model.d_steps": (int, 1, 10), "model.latent_dim": (int, 2, 512),
            "model.g_width": (int, 4, 256), "model.d_width": (int, 4, 256),
            "model.spectral_norm": (bool, None, None), "data.limit_train": (int, 1, 60000),
            "trainer.log_every_n_steps": (int, 1, 10000),
            "callbacks.samples.every_n_epochs": (int, 1, 1000),
            "callbacks.samples.per_class": (int, 1, 16), "callbacks.samples.every_s": (float, 1.0, 3600.0),
            "ckpt_path": (Path, None, None)}


class ParamError(ValueError):
    """A run parameter is missing, of the wrong type, out of range, or not allowed."""


def _field(default, label: str):
    return field(default=default, metadata={"label": label})


@dataclass(frozen=True)
class RunParams:
    """What a run is asked for; each field's `label` is what the form shows and errors say."""

    dataset: str = _field("mnist", "Dataset")
    model: str = _field("conv", "Model")
    loss: str = _field("hinge", "Loss")
    epochs: int = _field(5, "Epochs")
    batch_size: int = _field(64, "Batch size")
    lr_g: float = _field(2e-4, "Generator learning rate")
    lr_d: float = _field(4e-4, "Discriminator learning rate")
    ema_decay: float = _field(0.999, "EMA decay")
    seed: int = _field(0, "Seed")
    logger: str = _field("csv", "Logger")
    wandb_project: str = _field("cgan-studio", "W&B project")
    limit_batches: int = _field(0, "Batches per epoch (0 = all)")  # for quick runs
    overrides: str = _field("", "Advanced overrides")  # Hydra overrides, one per line, allowlisted keys only
    # dataset "upload": the uploaded .zip (the run keeps its own copy), its images' side and channels
    upload: str = _field("", "Images (.zip): one folder per class, up to 100 MB")
    image_size: int = _field(32, "Image size (px)")
    channels: int = _field(3, "Channels")

    @classmethod
    def from_dict(cls, values: dict) -> "RunParams":
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ParamError(f"unknown run parameter(s) {unknown}; known: {sorted(names)}")
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)


def label(name: str) -> str:
    """The form's label of a RunParams field (advanced override keys are their own label)."""
    return next((f.metadata["label"] for f in fields(RunParams) if f.name == name), name)


def checked_number(name: str, value, kind: type, low: float, high: float):
    """`value` as `kind` (int or float) within [low, high], or ParamError naming the field."""
    name = label(name)
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ParamError(f"{name} must be a number, got {shown(repr(value))}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParamError(f"{name} must be a finite number, got {shown(repr(value))}")
    if kind is int and value != int(value):
        raise ParamError(f"{name} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise ParamError(f"{name} must be between {low:g} and {high:g}, got {value!r}")
    return kind(value)


def checked_choice(name: str, value) -> str:
    if value not in CHOICES[name]:
        raise ParamError(f"{label(name)} must be one of {', '.join(map(str, CHOICES[name]))}, "
                         f"got {shown(repr(value))}")
    return value


def validate(p: RunParams, limits: Limits = Limits()) -> RunParams:
    """The same parameters with clean types, or ParamError with a message for a person."""
    for name in CHOICES:
        checked_choice(name, getattr(p, name))
    if p.logger == "wandb" and not (isinstance(p.wandb_project, str)
                                    and PROJECT_RE.fullmatch(p.wandb_project)):
        raise ParamError(f"{label('wandb_project')}: 1-64 letters, digits, '.', '_' or '-', got "
                         f"{shown(repr(p.wandb_project))}")
    limit = checked_number("limit_batches", p.limit_batches, int, 0, 10**6)
    if limits.limit_batches and not 0 < limit <= limits.limit_batches:
        raise ParamError(f"{label('limit_batches')} must be between 1 and {limits.limit_batches} here")
    checked_overrides_text(p.overrides)
    if p.dataset == UPLOAD and not (isinstance(p.upload, str) and p.upload):
        raise ParamError("upload: choose a .zip with one folder of images per class")
    return replace(
        p, epochs=checked_number("epochs", p.epochs, int, 1, limits.epochs),
        batch_size=checked_number("batch_size", p.batch_size, int, 1, limits.batch_size),
        lr_g=checked_number("lr_g", p.lr_g, float, 1e-7, 1.0),
        lr_d=checked_number("lr_d", p.lr_d, float, 1e-7, 1.0),
        ema_decay=checked_number("ema_decay", p.ema_decay, float, 0.0, 0.99999),
        seed=checked_number("seed", p.seed, int, 0, 2**31 - 1), limit_batches=limit)


def checked_overrides_text(text) -> str:
    """The advanced overrides text, at most OVERRIDES_BYTES and OVERRIDES_LINES lines."""
    if not isinstance(text, str):
        raise ParamError("overrides must be text, one override per line")
    if len(text.encode()) > OVERRIDES_BYTES or len(text.splitlines()) > OVERRIDES_LINES:
        raise ParamError(f"advanced overrides: at most {OVERRIDES_LINES} lines and "
                         f"{OVERRIDES_BYTES // 1024} KB")
    return text


def to_overrides(p: RunParams, runs_root: Path, limits: Limits = Limits()) -> list[str]:
    """Hydra overrides for `python -m gan.train`, from validated parameters."""
    data = [] if p.dataset == UPLOAD else [f"data={p.dataset}"]  # an upload's: gan.uploads, at launch
    out = [*data, f"model={p.model}", f"model.loss={p.loss}", f"logger={p.logger}",
           f"trainer.max_epochs={p.epochs}", f"data.batch_size={p.batch_size}",
           f"model.lr_g={p.lr_g!r}", f"model.lr_d={p.lr_d!r}", f"model.ema_decay={p.ema_decay!r}",
           f"seed={p.seed}", "trainer.enable_progress_bar=false"]
    if p.logger == "wandb":
        out.append(f"logger.wandb.project={p.wandb_project}")
    if p.limit_batches:
        out.append(f"trainer.limit_train_batches={p.limit_batches}")
    return out + advanced_overrides(p.overrides, runs_root, limits)


def advanced_overrides(text: str, runs_root: Path, limits: Limits = Limits()) -> list[str]:
    """Parse `text` (one override per line) with Hydra's parser; allowlisted keys only."""
    lines = [line.strip() for line in checked_overrides_text(text).splitlines() if line.strip()]
    try:
        parsed = OverridesParser.create().parse_overrides(lines)
    except HydraException as e:
        raise ParamError(f"advanced overrides: cannot parse ({shown(str(e).splitlines()[0])})") from None
    return [one_override(o, runs_root, limits) for o in parsed]


def one_override(o, runs_root: Path, limits: Limits = Limits()) -> str:
    key, line = o.key_or_group, shown(repr(o.input_line))
    if o.type != OverrideType.CHANGE:
        raise ParamError(f"advanced overrides: {line}: adding (+, ++) or deleting (~) keys "
                         "is not allowed, only changing allowlisted ones")
    if o.package is not None or o.is_sweep_override():
        raise ParamError(f"advanced overrides: {line}: packages (@) and sweeps are not allowed")
    value = o.value()
    if isinstance(value, str) and "${" in value:
        raise ParamError(f"advanced overrides: {line}: interpolations (${{...}}) are not allowed")
    allowed = sorted(set(ADVANCED) - set(limits.forbidden))
    if key not in allowed:
        raise ParamError(f"advanced overrides: {shown(repr(key))} is not allowed here; allowed keys: "
                         f"{', '.join(allowed)} (set the rest in the form)")
    kind, low, high = ADVANCED[key]
    high = min(high, limits.caps.get(key, high)) if high is not None else None
    if kind is bool:
        if not isinstance(value, bool):
            raise ParamError(f"advanced overrides: {key} must be true or false, got {value!r}")
        return f"{key}={str(value).lower()}"
    if kind is Path:
        return f"{key}='{checked_checkpoint(value, runs_root)}'"
    return f"{key}={checked_number(key, value, kind, low, high)!r}"


def checked_checkpoint(value, runs_root: Path) -> Path:
    """A `.ckpt` file inside `runs_root/<run>/checkpoints/`; nothing outside the runs folder."""
    if not isinstance(value, str) or not value:
        raise ParamError(f"ckpt_path must be a path, got {value!r}")
    root = Path(runs_root).resolve()
    path = (root / value).resolve()  # an absolute `value` replaces root; symlinks resolved
    inside = path.parent.name == "checkpoints" and path.parent.parent.parent == root
    if not inside or not CKPT_NAME_RE.fullmatch(path.name) or not SAFE_PATH_RE.fullmatch(str(path)):
        raise ParamError(f"ckpt_path must be a runs/<run>/checkpoints/<name>.ckpt file inside {root}, "
                         f"got {value!r}")
    if not path.is_file():
        raise ParamError(f"ckpt_path {value!r}: no such checkpoint")
    return path
