"""IDX datasets (MNIST, Fashion-MNIST): reading the gzipped files, downloading missing ones."""

from __future__ import annotations

import gzip
import hashlib
import struct
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from gan.datasets import DATA_DIR_ENV, DataError, DatasetSpec


def read_idx(path: Path) -> np.ndarray:
    """Read one gzipped IDX file into a uint8 array, checking its header against its size."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"{path}: not a readable gzip file ({e}); delete it to download it again") from e
    if len(raw) < 4 or raw[0:2] != b"\0\0" or raw[2] != 0x08:
        raise DataError(f"{path}: not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise DataError(
            f"{path}: holds {len(raw) - header} data bytes, header promises {expected} "
            f"for shape {shape}; the file is truncated or corrupt, delete it to download it again")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def download(spec: DatasetSpec, name: str, target: Path) -> None:
    """Fetch one file from the first mirror that answers, verify its md5, then move it in place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for mirror in spec.mirrors:
        try:
            data = _fetch(mirror + name)
        except (urllib.error.URLError, OSError) as e:
            errors.append(f"{mirror}: {e}")
            continue
        if hashlib.md5(data).hexdigest() != spec.md5[name]:
            errors.append(f"{mirror}: checksum mismatch")
            continue
        tmp = target.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(target)
        return
    raise DataError("; ".join(errors))


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        total = int(response.headers.get("Content-Length") or 0)
        chunks = []
        with tqdm(total=total or None, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1]) as bar:
            while chunk := response.read(1 << 16):
                chunks.append(chunk)
                bar.update(len(chunk))
    return b"".join(chunks)


def ensure_files(spec: DatasetSpec, data_dir: Path, allow_download: bool = True) -> Path:
    """Return the dataset folder, downloading missing files; raise one clear error if impossible."""
    folder = Path(data_dir) / spec.folder
    missing = [n for n in spec.md5 if not (folder / n).exists()]
    failures = []
    for name in missing if allow_download else []:
        try:
            download(spec, name, folder / name)
        except DataError as e:
            failures.append(f"{name} ({e})")
    still_missing = [n for n in spec.md5 if not (folder / n).exists()]
    if still_missing:
        raise DataError(
            f"{spec.name}: missing {', '.join(still_missing)} in {folder.resolve()} and could not "
            f"download them{': ' + '; '.join(failures) if failures else ''}. Put the IDX .gz files "
            f"there, or point {DATA_DIR_ENV}=/path/to/data (or data.data_dir=...) at a folder "
            f"holding {spec.folder}/.")
    return folder


def load_idx_split(spec: DatasetSpec, split: str, data_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 1, H, W) uint8 and labels (N,) int64 of one split ('train' or 'test')."""
    folder = ensure_files(spec, data_dir)
    img_name, lbl_name = spec.files[split]
    images, labels = read_idx(folder / img_name), read_idx(folder / lbl_name)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(f"{folder}: {img_name} {images.shape} and {lbl_name} {labels.shape} do not match")
    return torch.from_numpy(images.copy()).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))
