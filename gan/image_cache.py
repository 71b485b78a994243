"""Decode an image folder or zip once into a uint8 tensor, cached on disk, so no epoch decodes.

Each image is turned upright (EXIF), put on white where it is transparent, converted to grey
(`channels=1`) or RGB (3), centre-cropped to a square and resized to `image_size` with Pillow's
bicubic filter (`RESAMPLE`: antialiased when shrinking, smooth when enlarging).

Unreadable or truncated images are skipped and counted (their names are printed and kept in
`FolderImages.skipped`); a class left without any image is an error. Images over Pillow's pixel
limit (`Image.MAX_IMAGE_PIXELS`, its decompression-bomb guard) fail the whole read, naming the file.

The cache is one safetensors file per source and setting under `<cache_dir>` (default
`$GAN_CACHE_DIR/images`), keyed by every image's name, size and change stamp (mtime, or a zip
member's CRC and date) plus the size, channels and filter; it is written to a temp file and
renamed into place, so a reader never sees half of one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from safetensors import safe_open
from safetensors.torch import save_file
from tqdm import tqdm

from gan.fetch import CACHE_DIR
from gan.datasets import DataError
from gan.image_folder import Layout, open_source, parse_layout
from gan.limits import LOCAL_LIMITS, FolderLimits

RESAMPLE = Image.Resampling.BICUBIC
CACHE_VERSION = 1
BOMBS = (Image.DecompressionBombError, Image.DecompressionBombWarning)


@dataclass
class FolderImages:
    """A decoded source: images (N, C, S, S) uint8, labels (N,) int64, test (N,) bool."""

    images: torch.Tensor
    labels: torch.Tensor
    test: torch.Tensor
    split: bool  # `test` comes from the source's train/ and test/ folders
    class_names: list[str]
    skipped: list[str]  # "name (why)" of each unreadable image


def default_cache_dir() -> Path:
    return CACHE_DIR / "images"


def decode(data: bytes, size: int, channels: int) -> np.ndarray:
    """Encoded image bytes -> (size, size, channels) uint8; see the module docstring for how."""
    mode = "RGB" if channels == 3 else "L"
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as im:
            im.draft(mode, (size, size))  # JPEG: decode at 1/2, 1/4, 1/8 scale when that is enough
            im = ImageOps.exif_transpose(im)
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                im = Image.alpha_composite(Image.new("RGBA", im.size, "white"), im.convert("RGBA"))
            im = ImageOps.fit(im.convert(mode), (size, size), method=RESAMPLE)
            return np.asarray(im).reshape(size, size, channels)


def _decode_all(source, layout: Layout, size: int, channels: int):
    out = np.empty((len(layout.items), size, size, channels), np.uint8)
    kept, skipped = [], []
    for item in tqdm(layout.items, desc=f"decoding {Path(source.label).name}", unit="img",
                     mininterval=2.0, disable=len(layout.items) < 2000):
        try:
            out[len(kept)] = decode(source.read(item.name), size, channels)
        except BOMBS as e:
            raise DataError(f"{source.label}/{item.name}: over Pillow's pixel limit of "
                            f"{Image.MAX_IMAGE_PIXELS:,} pixels ({e})") from None
        except DataError:
            raise
        except Exception as e:  # noqa: BLE001 - any decoder failure: truncated, corrupt, unsupported
            skipped.append(f"{item.name} ({' '.join(str(e).split())[:120] or type(e).__name__})")
            continue
        kept.append(item)
    return torch.from_numpy(out[:len(kept)]).permute(0, 3, 1, 2).contiguous(), kept, skipped


def _check_classes(label: str, layout: Layout, kept: list, skipped: list[str]) -> None:
    found = {item.label for item in kept}
    empty = [name for i, name in enumerate(layout.class_names) if i not in found]
    if empty:
        raise DataError(f"{label}: no readable image in class folder(s) {', '.join(empty)} "
                        f"({len(skipped)} unreadable: {'; '.join(skipped[:3])})")


def fingerprint(source, layout: Layout, size: int, channels: int) -> str:
    entries = [(item.name, source.entries[item.name].size, source.entries[item.name].stamp)
               for item in layout.items]
    facts = {"version": CACHE_VERSION, "size": size, "channels": channels, "resample": RESAMPLE.name,
             "classes": layout.class_names, "split": layout.split, "entries": entries}
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:24]


def cache_path(cache_dir: Path, label: str, key: str) -> Path:
    path = Path(label)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{path.parent.name}_{path.stem}")[-48:]
    return Path(cache_dir) / f"{stem}-{key}.safetensors"


def _save(path: Path, data: FolderImages) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tensors = {"images": data.images, "labels": data.labels, "test": data.test}
    meta = {"class_names": json.dumps(data.class_names), "skipped": json.dumps(data.skipped),
            "split": json.dumps(data.split)}
    try:
        save_file(tensors, tmp, metadata=meta)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _load(path: Path) -> FolderImages | None:
    """The cached images, or None when there is no (readable) cache file."""
    try:
        with safe_open(path, "pt") as f:
            meta, t = f.metadata(), {k: f.get_tensor(k) for k in ("images", "labels", "test")}
        return FolderImages(t["images"], t["labels"], t["test"], json.loads(meta["split"]),
                            json.loads(meta["class_names"]), json.loads(meta["skipped"]))
    except Exception:  # noqa: BLE001 - missing, truncated by a crash, older format: decode again
        return None


def _check_md5(path: Path, md5: str | None) -> None:
    if md5 and hashlib.md5(path.read_bytes()).hexdigest() != md5:
        raise DataError(f"{path}: checksum mismatch (expected md5 {md5}); the file is damaged "
                        "or not the one this dataset expects")


def read_images(path: str | Path, image_size: int, channels: int, limits: FolderLimits = LOCAL_LIMITS,
                cache_dir: str | Path | None = None, md5: str | None = None) -> FolderImages:
    """Every image of the folder or zip at `path`, decoded (from the cache when it has them)."""
    if channels not in (1, 3) or not 8 <= image_size <= 512:
        raise DataError(f"channels must be 1 or 3 and image_size 8..512, got {channels}, {image_size}")
    source = open_source(path, limits)
    try:
        layout = parse_layout(source.label, list(source.entries), limits)
        cached = cache_path(cache_dir or default_cache_dir(), source.label,
                            fingerprint(source, layout, image_size, channels))
        data = _load(cached)
        if data is None:
            _check_md5(Path(path), md5)
            data = _decode(source, layout, image_size, channels)
            _save(cached, data)
    finally:
        source.close()
    if data.skipped:
        print(f"{source.label}: skipped {len(data.skipped)} unreadable image(s): "
              f"{'; '.join(data.skipped[:5])}{' ...' if len(data.skipped) > 5 else ''}", flush=True)
    return data


def _decode(source, layout: Layout, size: int, channels: int) -> FolderImages:
    images, kept, skipped = _decode_all(source, layout, size, channels)
    _check_classes(source.label, layout, kept, skipped)
    return FolderImages(images, torch.tensor([i.label for i in kept], dtype=torch.int64),
                        torch.tensor([i.test for i in kept], dtype=torch.bool), layout.split,
                        list(layout.class_names), skipped)
