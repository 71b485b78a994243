"""Data for training, the judge and the metrics: any registry dataset, as uint8 tensors or a
LightningDataModule of (images in [-1, 1], labels) batches."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

from gan.datasets import DataError, DatasetSpec, default_data_dir, get_dataset
from gan.idx import load_idx_split
from gan.image_cache import FolderImages, read_images
from gan.limits import FOLDER_LIMITS


class DataSource:
    """A registry dataset plus the settings that pick its files and pixels.

    Args:
        dataset: a registry name (`gan.datasets.REGISTRY`).
        path: the folder or .zip of `image_folder` (nothing else takes one).
        image_size, channels: output size and 1 or 3 channels of folder datasets (None: the
            registry's shape); idx datasets are 28x28 grey only.
        data_dir: the data folder (None: `default_data_dir()`).
        cache_dir: where decoded folder images are cached (None: `$GAN_CACHE_DIR/images`).
        limits: "local" or "upload" (`gan.limits.FOLDER_LIMITS`).
        test_fraction, seed: the seeded per-class hold-out of a folder without train/ and test/.
    """

    def __init__(self, dataset: str, path: str | None = None, image_size: int | None = None,
                 channels: int | None = None, data_dir: str | Path | None = None,
                 cache_dir: str | Path | None = None, limits: str = "local",
                 test_fraction: float = 0.1, seed: int = 0):
        self.spec: DatasetSpec = get_dataset(dataset)
        self.path, self.cache_dir, self.seed = path, cache_dir, seed
        self.data_dir = Path(data_dir) if data_dir else default_data_dir()
        self.limits, self.test_fraction = limits, test_fraction
        shape = self.spec.img_shape or (3, 32, 32)
        self.channels, self.image_size = channels or shape[0], image_size or shape[1]
        self._check()
        self._folder: FolderImages | None = None

    def _check(self) -> None:
        name = self.spec.name
        if (self.spec.folder is None) != bool(self.path):
            raise DataError(f"{name}: data.path=<folder or .zip> is required" if self.spec.folder is None
                            else f"{name} reads its own files from the data folder; for your own "
                                 "images use data=image_folder data.path=...")
        if self.spec.reader == "idx" and (self.channels, self.image_size) != self.spec.img_shape[:2]:
            raise DataError(f"{name} is {self.spec.img_shape[1]}x{self.spec.img_shape[2]} grey only; "
                            "data.image_size and data.channels apply to image-folder datasets")
        if self.limits not in FOLDER_LIMITS:
            raise DataError(f"data.limits must be one of {', '.join(FOLDER_LIMITS)}, got {self.limits!r}")
        if not 0.0 <= self.test_fraction < 1.0:
            raise DataError(f"data.test_fraction must be in [0, 1), got {self.test_fraction}")

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def img_shape(self) -> tuple[int, int, int]:
        return (self.channels, self.image_size, self.image_size)

    @property
    def class_names(self) -> list[str]:
        return list(self.spec.class_names) or self._read_folder().class_names

    def load(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (N, C, H, W) uint8 and labels (N,) int64 of 'train' or 'test'."""
        if split not in ("train", "test"):
            raise DataError(f"split must be 'train' or 'test', got {split!r}")
        if self.spec.reader == "idx":
            return load_idx_split(self.spec, split, self.data_dir)
        if self.spec.folder is not None:
            return self._load_file(split)
        data = self._read_folder()
        test = data.test if data.split else holdout(data.labels, self.test_fraction, self.seed)
        keep = test if split == "test" else ~test
        return data.images[keep], data.labels[keep]

    def _load_file(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        (name,) = self.spec.files[split]
        path = self.data_dir / self.spec.folder / name
        if not path.is_file():
            raise DataError(f"{self.name}: missing {path.resolve()}; point GAN_DATA_DIR=/path/to/data "
                            f"(or data.data_dir=...) at a folder holding {self.spec.folder}/{name}")
        data = read_images(path, self.image_size, self.channels, FOLDER_LIMITS[self.limits], self.cache_dir,
                           self.spec.md5.get(name))
        if tuple(data.class_names) != self.spec.class_names:
            raise DataError(f"{path}: class folders {data.class_names} are not {list(self.spec.class_names)}")
        return data.images, data.labels

    def _read_folder(self) -> FolderImages:
        if self._folder is None:
            self._folder = read_images(self.path, self.image_size, self.channels, FOLDER_LIMITS[self.limits],
                                       self.cache_dir)
        return self._folder


def holdout(labels: torch.Tensor, fraction: float, seed: int) -> torch.Tensor:
    """(N,) bool: a seeded `fraction` of each class (rounded down, at least one image left to train)."""
    rng = torch.Generator().manual_seed(seed)
    test = torch.zeros(len(labels), dtype=torch.bool)
    for c in labels.unique():
        idx = torch.nonzero(labels == c).squeeze(1)
        k = min(len(idx) - 1, int(len(idx) * fraction))
        test[idx[torch.randperm(len(idx), generator=rng)[:k]]] = True
    return test


def load_split(dataset: str, split: str, data_dir: Path | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, C, H, W) uint8 and labels (N,) int64 of a registry dataset at its own shape."""
    return DataSource(dataset, data_dir=data_dir).load(split)


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 in [0, 255] -> float in [-1, 1]."""
    return images.float().div(127.5).sub(1.0)


class TensorPairs(Dataset):
    """uint8 images with labels, served in [-1, 1]; `__getitems__` lets the loader index a whole
    batch at once (converting per batch keeps a 64 px colour set at 1 byte per value in memory)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor):
        self.images, self.labels = images, labels  # (N, C, H, W) uint8, (N,) int64

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return to_unit_range(self.images[i]), self.labels[i]

    def __getitems__(self, idx: list[int]):
        idx = torch.as_tensor(idx)
        return to_unit_range(self.images[idx]), self.labels[idx]


def _collate_batch(batch):
    return batch  # __getitems__ already returns stacked (images, labels)


class DataModule(pl.LightningDataModule):
    """Any registry dataset's training split, shuffled in batches (its test split is the quality
    metrics' reference, read by gan.metrics).

    Exposes `dataset` (the registry name), `class_names` and `img_shape` for the model. The
    arguments not listed here are `DataSource`'s.
    """

    def __init__(self, dataset: str = "mnist", path: str | None = None, image_size: int | None = None,
                 channels: int | None = None, data_dir: str | None = None, cache_dir: str | None = None,
                 limits: str = "local", batch_size: int = 64,
                 test_fraction: float = 0.1, num_workers: int = 0, seed: int = 0,
                 limit_train: int | None = None):
        super().__init__()
        self.source = DataSource(dataset, path, image_size, channels, data_dir, cache_dir, limits,
                                 test_fraction, seed)
        self.dataset = self.source.name
        self.batch_size, self.num_workers = batch_size, num_workers
        self.seed, self.limit_train = seed, limit_train
        self.train_set = None

    @property
    def class_names(self) -> list[str]:
        return self.source.class_names

    @property
    def img_shape(self) -> tuple[int, int, int]:
        return self.source.img_shape

    def prepare_data(self) -> None:
        self.source.load("train")  # downloads idx files, fills the folder cache (rank 0 only)

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        images, labels = self.source.load("train")
        if self.limit_train:  # a seeded subset, so quick runs still see every class
            keep = torch.randperm(len(labels), generator=torch.Generator().manual_seed(self.seed))
            images, labels = images[keep[: self.limit_train]], labels[keep[: self.limit_train]]
        self.train_set = TensorPairs(images, labels)

    def _loader(self, data: TensorPairs, shuffle: bool, drop_last: bool = False) -> DataLoader:
        return DataLoader(data, batch_size=self.batch_size, shuffle=shuffle, drop_last=drop_last,
                          num_workers=self.num_workers, collate_fn=_collate_batch,
                          persistent_workers=self.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=True, drop_last=True)
