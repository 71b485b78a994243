"""IDX datasets (MNIST, Fashion-MNIST): reading, downloading, and a LightningDataModule."""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

DATA_DIR_ENV = "GAN_DATA_DIR"
SPLIT_FILES = {"train": "train", "test": "t10k"}


@dataclass(frozen=True)
class DatasetInfo:
    folder: str
    class_names: tuple[str, ...]
    mirrors: tuple[str, ...]
    md5: dict[str, str]  # upstream .gz checksums, verified after a download


DATASETS = {
    "mnist": DatasetInfo(
        folder="mnist",
        class_names=tuple(str(i) for i in range(10)),
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        md5={
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    ),
    "fashion_mnist": DatasetInfo(
        folder="fashion-mnist",
        class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        md5={
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
    ),
}


class DataError(RuntimeError):
    """A data file is missing, cannot be downloaded, or is not a valid IDX file."""


def dataset_info(name: str) -> DatasetInfo:
    key = name.replace("-", "_")
    if key not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")
    return DATASETS[key]


def default_data_dir() -> Path:
    """$GAN_DATA_DIR, else ./data if it holds data, else ../shared/data if it does, else ./data."""
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV]).expanduser()
    for candidate in (Path("data"), Path("../shared/data")):
        if (candidate / "mnist").is_dir():
            return candidate
    return Path("data")


def file_names(split: str) -> tuple[str, str]:
    prefix = SPLIT_FILES[split]
    return f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"


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


def download(info: DatasetInfo, name: str, target: Path) -> None:
    """Fetch one file from the first mirror that answers, verify its md5, then move it in place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for mirror in info.mirrors:
        try:
            data = _fetch(mirror + name)
        except (urllib.error.URLError, OSError) as e:
            errors.append(f"{mirror}: {e}")
            continue
        if hashlib.md5(data).hexdigest() != info.md5[name]:
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


def ensure_files(dataset: str, data_dir: Path, allow_download: bool = True) -> Path:
    """Return the dataset folder, downloading missing files; raise one clear error if impossible."""
    info = dataset_info(dataset)
    folder = Path(data_dir) / info.folder
    missing = [n for n in info.md5 if not (folder / n).exists()]
    failures = []
    for name in missing if allow_download else []:
        try:
            download(info, name, folder / name)
        except DataError as e:
            failures.append(f"{name} ({e})")
    still_missing = [n for n in info.md5 if not (folder / n).exists()]
    if still_missing:
        raise DataError(
            f"{dataset}: missing {', '.join(still_missing)} in {folder.resolve()} and could not "
            f"download them{': ' + '; '.join(failures) if failures else ''}. Put the IDX .gz files "
            f"there, or point {DATA_DIR_ENV}=/path/to/data (or data.data_dir=...) at a folder "
            f"holding {info.folder}/.")
    return folder


def load_split(dataset: str, split: str, data_dir: Path | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 1, H, W) uint8 and labels (N,) int64 of one split ('train' or 'test')."""
    folder = ensure_files(dataset, Path(data_dir) if data_dir else default_data_dir())
    img_name, lbl_name = file_names(split)
    images, labels = read_idx(folder / img_name), read_idx(folder / lbl_name)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(f"{folder}: {img_name} {images.shape} and {lbl_name} {labels.shape} do not match")
    return torch.from_numpy(images.copy()).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 in [0, 255] -> float in [-1, 1]."""
    return images.float().div(127.5).sub(1.0)


class TensorPairs(Dataset):
    """Images already in [-1, 1] with labels; `__getitems__` lets the loader index a whole batch at once."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return self.images[i], self.labels[i]

    def __getitems__(self, idx: list[int]):
        idx = torch.as_tensor(idx)
        return self.images[idx], self.labels[idx]


def _collate_batch(batch):
    return batch  # __getitems__ already returns stacked (images, labels)


class IDXDataModule(pl.LightningDataModule):
    """train/val carved from the IDX training file (seeded), test = t10k."""

    def __init__(self, dataset: str = "mnist", data_dir: str | None = None, batch_size: int = 64,
                 val_size: int = 5000, num_workers: int = 0, seed: int = 0,
                 limit_train: int | None = None):
        super().__init__()
        self.info = dataset_info(dataset)
        self.dataset = dataset
        self.data_dir = Path(data_dir) if data_dir else default_data_dir()
        self.batch_size, self.val_size, self.num_workers = batch_size, val_size, num_workers
        self.seed, self.limit_train = seed, limit_train
        self.train_set = self.val_set = self.test_set = None

    @property
    def class_names(self) -> list[str]:
        return list(self.info.class_names)

    @property
    def img_shape(self) -> tuple[int, int, int]:
        return (1, 28, 28)

    def prepare_data(self) -> None:
        ensure_files(self.dataset, self.data_dir)

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        images, labels = load_split(self.dataset, "train", self.data_dir)
        order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(self.seed))
        val_idx, train_idx = order[: self.val_size], order[self.val_size:]
        if self.limit_train:
            train_idx = train_idx[: self.limit_train]
        data = to_unit_range(images)  # (N, 1, 28, 28) in [-1, 1]
        self.train_set = TensorPairs(data[train_idx], labels[train_idx])
        self.val_set = TensorPairs(data[val_idx], labels[val_idx])
        test_images, test_labels = load_split(self.dataset, "test", self.data_dir)
        self.test_set = TensorPairs(to_unit_range(test_images), test_labels)

    def _loader(self, data: TensorPairs, shuffle: bool, drop_last: bool = False) -> DataLoader:
        return DataLoader(data, batch_size=self.batch_size, shuffle=shuffle, drop_last=drop_last,
                          num_workers=self.num_workers, collate_fn=_collate_batch,
                          persistent_workers=self.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=True, drop_last=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_set, shuffle=False)
