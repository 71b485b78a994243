import gzip
import shutil
import urllib.error

import pytest
import torch

from gan import data
from gan.data import DataError, IDXDataModule


def test_real_mnist_splits_and_range():
    dm = IDXDataModule("mnist", batch_size=16, val_size=1000)
    dm.setup()
    assert len(dm.train_set) == 59000 and len(dm.val_set) == 1000 and len(dm.test_set) == 10000
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (16, 1, 28, 28) and labels.shape == (16,)
    assert images.min() == -1 and images.max() == 1
    assert set(dm.test_set.labels.tolist()) == set(range(10))


def test_fashion_class_names():
    dm = IDXDataModule("fashion_mnist")
    assert dm.class_names[0] == "T-shirt/top" and dm.class_names[9] == "Ankle boot"


def _copy_mnist(tmp_path):
    target = tmp_path / "mnist"
    shutil.copytree(data.default_data_dir() / "mnist", target)
    return target


def test_missing_files_offline_name_files_and_setting(tmp_path, monkeypatch):
    def offline(url):
        raise urllib.error.URLError("network unreachable")
    monkeypatch.setattr(data, "_fetch", offline)
    folder = _copy_mnist(tmp_path)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError) as e:
        data.ensure_files("mnist", tmp_path)
    msg = str(e.value)
    assert "t10k-labels-idx1-ubyte.gz" in msg and "GAN_DATA_DIR" in msg
    assert "train-images" not in msg  # only the missing file is named


def test_download_verifies_checksum(tmp_path, monkeypatch):
    real = data.default_data_dir() / "mnist"
    served = {}

    def fake_fetch(url):  # the network boundary: serve the real bytes, record the request
        name = url.rsplit("/", 1)[-1]
        served[name] = url
        return (real / name).read_bytes()
    monkeypatch.setattr(data, "_fetch", fake_fetch)
    data.ensure_files("mnist", tmp_path)
    assert sorted(served) == sorted(data.DATASETS["mnist"].md5)
    images, labels = data.load_split("mnist", "test", tmp_path)
    assert images.shape == (10000, 1, 28, 28)

    monkeypatch.setattr(data, "_fetch", lambda url: b"not the file")
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="checksum mismatch"):
        data.ensure_files("mnist", tmp_path)


def test_truncated_file_names_the_file(tmp_path):
    folder = _copy_mnist(tmp_path)
    path = folder / "t10k-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[: len(raw) // 2]))
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz.*truncated or corrupt"):
        data.load_split("mnist", "test", tmp_path)


def test_corrupt_gzip_names_the_file(tmp_path):
    folder = _copy_mnist(tmp_path)
    path = folder / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz"):
        data.load_split("mnist", "train", tmp_path)


def test_seeded_validation_split_is_stable():
    a, b = IDXDataModule(seed=1, val_size=10), IDXDataModule(seed=1, val_size=10)
    a.setup(), b.setup()
    assert torch.equal(a.val_set.labels, b.val_set.labels)
