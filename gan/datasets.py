"""The dataset registry: every dataset the project knows, declared once.

Hydra's `data=` choices (one `configs/data/<name>.yaml` per entry), the Train tab's dropdown
(`gan.run_params.CHOICES`), the judge (`python -m gan.judge --dataset`) and `gan.evaluate` all
read `REGISTRY`. Adding a dataset is one entry here plus one config file.

Two readers: "idx" (gzipped IDX files, `gan.idx`) and "folder" (one subfolder of images per
class, in a folder or a .zip, `gan.image_folder`). Files live under the data folder
(`$GAN_DATA_DIR`, see `default_data_dir`), except for `image_folder`, whose `data.path` names them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DATA_DIR_ENV = "GAN_DATA_DIR"
SPLITS = ("train", "test")


class DataError(RuntimeError):
    """A dataset's files are missing, cannot be read, or do not hold what they should."""


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset: what it is called, what it holds and where its files are.

    Args:
        name: the Hydra option (`data=<name>`) and the name in cards, judges and the app.
        title: what the app's dropdown shows.
        reader: "idx" or "folder".
        class_names: the classes in label order; () = the sorted class folder names of `data.path`.
        img_shape: (C, H, W) as stored; None = `data.channels` x `data.image_size`^2.
        folder: the files' folder under the data folder; None = `data.path` names a folder or .zip.
        files: split -> the split's files in `folder` (idx: images, labels; folder: one folder or .zip).
        md5: file -> checksum (idx: verified after a download; folder: verified before decoding).
        mirrors: base URLs the idx files can be downloaded from.
        flips: a horizontal flip keeps the class (the judge trains with flips then).
    """

    name: str
    title: str
    reader: str
    class_names: tuple[str, ...] = ()
    img_shape: tuple[int, int, int] | None = None
    folder: str | None = None
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)
    md5: dict[str, str] = field(default_factory=dict)
    mirrors: tuple[str, ...] = ()
    flips: bool = False


def _idx_files(prefix: str) -> tuple[str, str]:
    return f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"


IDX_FILES = {"train": _idx_files("train"), "test": _idx_files("t10k")}
DIGITS = tuple(str(i) for i in range(10))

REGISTRY = {spec.name: spec for spec in (
    DatasetSpec(
        name="mnist", title="MNIST (digits, 28x28 grey)", reader="idx", class_names=DIGITS,
        img_shape=(1, 28, 28), folder="mnist", files=IDX_FILES,
        mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        md5={"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
             "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
             "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
             "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}),
    DatasetSpec(
        name="fashion_mnist", title="Fashion-MNIST (clothes, 28x28 grey)", reader="idx",
        class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        img_shape=(1, 28, 28), folder="fashion-mnist", files=IDX_FILES,
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        md5={"train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
             "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
             "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
             "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"}),
    DatasetSpec(
        name="cifar10", title="CIFAR-10 (10 classes, 32x32 colour)", reader="folder",
        class_names=("airplane", "automobile", "bird", "cat", "deer",
                     "dog", "frog", "horse", "ship", "truck"),
        img_shape=(3, 32, 32), folder="cifar-10",
        files={"train": ("train.zip",), "test": ("test.zip",)},
        md5={"train.zip": "d6e34eaacf56992a72478838332963bd",
             "test.zip": "6b1d569212a2b1c2cb3a046fe216f049"},
        flips=True),
    DatasetSpec(name="image_folder", title="Image folder or .zip (data.path)", reader="folder"),
)}


def dataset_names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def get_dataset(name: str) -> DatasetSpec:
    """The registry entry for `name` ("fashion-mnist" and "fashion_mnist" both work)."""
    key = str(name).replace("-", "_")
    if key not in REGISTRY:
        raise DataError(f"unknown dataset {name!r}; choose one of {', '.join(REGISTRY)}")
    return REGISTRY[key]


def fixed_datasets() -> list[DatasetSpec]:
    """Datasets whose classes and shape the registry declares (those a judge can be trained for)."""
    return [spec for spec in REGISTRY.values() if spec.class_names and spec.img_shape]


def default_data_dir() -> Path:
    """$GAN_DATA_DIR, else ./data if it holds data, else ../shared/data if it does, else ./data."""
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV]).expanduser()
    for candidate in (Path("data"), Path("../shared/data")):
        if (candidate / "mnist").is_dir():
            return candidate
    return Path("data")
