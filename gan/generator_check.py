"""Is a generator's config.json, and its weights file, sane to build before a byte is allocated?

Checks run in this order, each before the next costs anything: config.json's size, its keys
and types and the limits in gan.limits.LOAD; the parameter count and the output shape of the
network it describes, built on the meta device (no memory, right for every arch); the
safetensors header (size, tensor count, names and shapes against the meta network); after
loading, one real forward pass of one image. A refusal is a `LoadRefused` whose message is
ours: it never echoes the file's contents, keys or tensor shapes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch

from gan.limits import LOAD
from gan.nets import Generator

ARCH_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
WEIGHT_DTYPES = {"F16", "BF16", "F32", "F64", "I64"}  # I64: batch norm's num_batches_tracked


class LoadRefused(ValueError):
    """A generator file is refused before (or right after) loading; the message says why."""


def _whole(value, name: str, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:  # bool and 64.0 are not ints here
        raise LoadRefused(f"config.json: {name} must be a whole number from {low} to {high}")
    return value


def _image_shape(value) -> list[int]:
    if not isinstance(value, list) or len(value) != 3:
        raise LoadRefused("config.json: img_shape must be [channels, height, width]")
    channels = _whole(value[0], "the channel count", 1, max(LOAD.channels))
    if channels not in LOAD.channels:
        raise LoadRefused(f"config.json: images must have {' or '.join(map(str, LOAD.channels))} channels")
    return [channels, *(_whole(side, "the image side", *LOAD.side) for side in value[1:])]


def _class_names(value) -> list[str] | None:
    ok = value is None or isinstance(value, list) and len(value) <= LOAD.classes and all(
        isinstance(n, str) and 0 < len(n) <= LOAD.class_name_chars for n in value)
    if not ok:
        raise LoadRefused(f"config.json: class_names must be a list of names of 1-{LOAD.class_name_chars} "
                          "characters")
    return value


def _arch(value) -> str:
    if not isinstance(value, str) or not ARCH_RE.fullmatch(value):
        raise LoadRefused("config.json: arch must be the name of a generator architecture")
    return value


# config.json key -> its check; a key not in here is refused (no free-form constructor arguments)
CHECKS = {"arch": _arch, "img_shape": _image_shape, "class_names": _class_names,
          "latent_dim": lambda v: _whole(v, "latent_dim", 1, LOAD.latent_dim),
          "num_classes": lambda v: _whole(v, "num_classes", 1, LOAD.classes),
          "width": lambda v: _whole(v, "width", 1, LOAD.width)}


def checked_config(config) -> dict:
    """Generator constructor arguments from config.json, every value typed and within limits
    (absent keys take the Generator's defaults)."""
    if not isinstance(config, dict):
        raise LoadRefused("config.json is not a JSON object")
    unknown = set(config) - set(CHECKS)
    if unknown:
        raise LoadRefused(f"config.json has {len(unknown)} key(s) a generator does not take")
    return {key: CHECKS[key](value) for key, value in config.items()}


def read_config(path: Path) -> dict:
    """config.json, size-checked, parsed and checked (`checked_config`)."""
    if path.stat().st_size > LOAD.config_bytes:
        raise LoadRefused(f"config.json is larger than {LOAD.config_bytes // 1024} KB")
    try:
        config = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError):
        raise LoadRefused("config.json is not valid JSON") from None
    return checked_config(config)


def planned_tensors(config: dict) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor the generator `config` describes, from a build on the meta
    device; refuses more than LOAD.params parameters or an output that is not one image."""
    try:
        with torch.device("meta"):
            generator = Generator(**config).eval()
            out = generator(torch.zeros(1, generator.latent_dim), torch.zeros(1, dtype=torch.long))
    except Exception:  # noqa: BLE001 - an unknown arch, sizes the body cannot take, ...
        raise LoadRefused("config.json describes a generator this app cannot build "
                          "(unknown arch, or sizes its layers cannot take)") from None
    params = sum(p.numel() for p in generator.parameters())
    if params > LOAD.params:
        raise LoadRefused(f"the generator config.json describes has {params / 1e6:,.0f} M parameters; "
                          f"at most {LOAD.params // 1_000_000} M load here")
    if tuple(out.shape) != (1, *generator.img_shape):
        raise LoadRefused("the network config.json describes does not produce images of its img_shape")
    return {name: tuple(t.shape) for name, t in generator.state_dict().items()}


def check_shapes(found: dict[str, tuple], planned: dict[str, tuple], what: str) -> None:
    """The weights hold exactly the planned tensors, each of its planned shape (counts only)."""
    missing, unexpected = planned.keys() - found.keys(), found.keys() - planned.keys()
    other = [k for k in planned.keys() & found.keys() if tuple(found[k]) != planned[k]]
    if missing or unexpected or other:
        raise LoadRefused(f"wrong architecture: {what} does not fit config.json ({len(missing)} "
                          f"tensor(s) missing, {len(unexpected)} unexpected, {len(other)} of another shape)")


def safetensors_shapes(path: Path) -> dict[str, tuple]:
    """Tensor name -> shape from a safetensors header, read without loading any tensor."""
    size = path.stat().st_size
    broken = LoadRefused("model.safetensors is not a complete safetensors file")
    with open(path, "rb") as f:
        head = f.read(8)
        length = int.from_bytes(head, "little") if len(head) == 8 else -1
        if not 0 < length <= min(LOAD.header_bytes, size - 8):
            raise broken
        try:
            header = json.loads(f.read(length))
        except (ValueError, UnicodeDecodeError):
            raise broken from None
    if not isinstance(header, dict) or len(header) > LOAD.tensors + 1:
        raise broken
    header.pop("__metadata__", None)
    shapes, end = {}, 0
    for name, entry in header.items():
        try:
            start, stop = entry["data_offsets"]
            shapes[name] = tuple(int(n) for n in entry["shape"])
            assert entry["dtype"] in WEIGHT_DTYPES and 0 <= start <= stop
        except Exception:  # noqa: BLE001 - any malformed entry
            raise broken from None
        end = max(end, stop)
    if 8 + length + end > size:
        raise broken
    return shapes


def check_forward(generator: Generator) -> None:
    """One image through the loaded generator: the declared shape, and finite values."""
    with torch.inference_mode():
        z = torch.randn(1, generator.latent_dim, generator=torch.Generator().manual_seed(0))
        out = generator(z, torch.zeros(1, dtype=torch.long))
    if tuple(out.shape) != (1, *generator.img_shape):
        raise LoadRefused("the loaded generator does not produce images of its declared shape")
    if not torch.isfinite(out).all():
        raise LoadRefused("the loaded generator produces NaN or infinite values")
