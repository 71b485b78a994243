import gzip
import shutil
import urllib.error

import pytest
import torch

from gan import idx
from gan.data import DataModule, DataSource, load_split
from gan.datasets import REGISTRY, DataError, default_data_dir, get_dataset

MNIST = get_dataset("mnist")


def test_real_mnist_splits_and_range():
    dm = DataModule("mnist", batch_size=16)
    dm.setup()
    assert len(dm.train_set) == 60000
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (16, 1, 28, 28) and labels.shape == (16,)
    assert images.min() == -1 and images.max() == 1
    test_images, test_labels = load_split("mnist", "test")
    assert len(test_images) == 10000 and set(test_labels.tolist()) == set(range(10))


def test_fashion_class_names():
    dm = DataModule("fashion_mnist")
    assert dm.class_names[0] == "T-shirt/top" and dm.class_names[9] == "Ankle boot"


def _copy_mnist(tmp_path):
    target = tmp_path / "mnist"
    shutil.copytree(default_data_dir() / "mnist", target)
    return target


def test_missing_files_offline_name_files_and_setting(tmp_path, monkeypatch):
    def offline(url):
        raise urllib.error.URLError("network unreachable")
    monkeypatch.setattr(idx, "_fetch", offline)
    folder = _copy_mnist(tmp_path)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError) as e:
        idx.ensure_files(MNIST, tmp_path)
    msg = str(e.value)
    assert "t10k-labels-idx1-ubyte.gz" in msg and "GAN_DATA_DIR" in msg
    assert "train-images" not in msg  # only the missing file is named


def test_download_verifies_checksum(tmp_path, monkeypatch):
    real = default_data_dir() / "mnist"
    served = {}

    def fake_fetch(url):  # the network boundary: serve the real bytes, record the request
        name = url.rsplit("/", 1)[-1]
        served[name] = url
        return (real / name).read_bytes()
    monkeypatch.setattr(idx, "_fetch", fake_fetch)
    idx.ensure_files(MNIST, tmp_path)
    assert sorted(served) == sorted(REGISTRY["mnist"].md5)
    images, labels = load_split("mnist", "test", tmp_path)
    assert images.shape == (10000, 1, 28, 28)

    monkeypatch.setattr(idx, "_fetch", lambda url: b"not the file")
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="checksum mismatch"):
        idx.ensure_files(MNIST, tmp_path)


def test_truncated_file_names_the_file(tmp_path):
    folder = _copy_mnist(tmp_path)
    path = folder / "t10k-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[: len(raw) // 2]))
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz.*truncated or corrupt"):
        load_split("mnist", "test", tmp_path)


def test_corrupt_gzip_names_the_file(tmp_path):
    folder = _copy_mnist(tmp_path)
    path = folder / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz"):
        load_split("mnist", "train", tmp_path)


def test_seeded_training_subset_is_stable_and_has_every_class():
    a, b = DataModule(seed=1, limit_train=200), DataModule(seed=1, limit_train=200)
    a.setup(), b.setup()
    assert torch.equal(a.train_set.labels, b.train_set.labels)
    assert set(a.train_set.labels.tolist()) == set(range(10))


def test_cifar10_loads_with_its_shape_classes_and_labels():
    dm = DataModule("cifar10", batch_size=8)
    assert dm.class_names == list(REGISTRY["cifar10"].class_names) and dm.img_shape == (3, 32, 32)
    images, labels = load_split("cifar10", "test")
    assert images.shape == (10000, 3, 32, 32) and images.dtype == torch.uint8
    assert labels.bincount().tolist() == [1000] * 10
    assert labels[:1000].eq(0).all() and labels[-1000:].eq(9).all()  # zip order: class folders sorted
    # the README's figures, within JPEG noise: a frog is greener than it is blue, on average
    mean = images.float().mean(dim=(0, 2, 3))
    assert torch.allclose(mean, torch.tensor([125.3, 122.9, 113.9]), atol=3.0)
    frogs = images[labels == 6].float().mean(dim=(0, 2, 3))
    assert frogs[1] > frogs[2]


def test_cifar10_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(DataError, match=r"missing .*cifar-10/train.zip.*GAN_DATA_DIR"):
        DataSource("cifar10", data_dir=tmp_path).load("train")


def test_image_folder_datamodule_exposes_what_the_model_needs(image_folder, tmp_path):
    dm = DataModule("image_folder", path=str(image_folder), image_size=16, channels=3,
                    batch_size=4, cache_dir=str(tmp_path))
    assert dm.dataset == "image_folder" and dm.class_names == ["apple", "banana", "cherry"]
    assert dm.img_shape == (3, 16, 16)
    dm.setup()
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (4, 3, 16, 16) and images.dtype == torch.float32
    assert images.min() >= -1 and images.max() <= 1
    assert len(dm.train_set) == 18 and len(dm.source.load("test")[1]) == 0  # int(6 * 0.1) = 0 held out
