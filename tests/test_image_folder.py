"""Image folders and zips: layouts, the cache, and every bad input with its message."""

import io
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from PIL import Image

from conftest import make_image_folder
from gan import image_cache
from gan.data import DataSource
from gan.datasets import DataError
from gan.image_cache import read_images
from gan.limits import LOCAL_LIMITS, UPLOAD_LIMITS


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def zip_folder(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, p.relative_to(folder.parent).as_posix())  # one wrapper folder inside
    return target


def test_folder_decodes_sorted_classes_skips_the_broken_file_ignores_text(image_folder, tmp_path, capsys):
    data = read_images(image_folder, 16, 3, cache_dir=tmp_path)
    assert data.class_names == ["apple", "banana", "cherry"]
    assert data.images.shape == (18, 3, 16, 16) and data.images.dtype == torch.uint8
    assert data.labels.bincount().tolist() == [6, 6, 6] and not data.split
    assert len(data.skipped) == 1 and data.skipped[0].startswith("banana/broken.png")
    assert "skipped 1 unreadable image(s): banana/broken.png" in capsys.readouterr().out
    apple = data.images[data.labels == 0]  # in file-name order: 0.png (transparent), 1.png, ...
    assert (apple[0] == 255).all()  # transparent pixels are put on white
    assert apple[1:, 0].float().mean() == pytest.approx(200, abs=1) and apple[1:, 2].max() < 40
    grey = read_images(image_folder, 8, 1, cache_dir=tmp_path)
    assert grey.images.shape == (18, 1, 8, 8)


def test_zip_with_a_wrapper_folder_reads_like_the_folder(image_folder, tmp_path):
    archive = zip_folder(image_folder, tmp_path / "fruit.zip")
    a = read_images(image_folder, 16, 3, cache_dir=tmp_path / "c1")
    b = read_images(archive, 16, 3, cache_dir=tmp_path / "c2")
    assert b.class_names == a.class_names and torch.equal(a.images, b.images)


def test_train_test_folders_are_the_split_else_a_seeded_holdout(tmp_path):
    for split in ("train", "test"):
        make_image_folder(tmp_path / "set" / split)
    source = DataSource("image_folder", path=str(tmp_path / "set"), image_size=8, cache_dir=tmp_path / "c")
    assert source.class_names == ["apple", "banana", "cherry"]
    assert len(source.load("train")[1]) == 18 and len(source.load("test")[1]) == 18
    plain = DataSource("image_folder", path=str(tmp_path / "set" / "train"), image_size=8,
                       test_fraction=0.34, cache_dir=tmp_path / "c")
    train, test = plain.load("train")[1], plain.load("test")[1]
    assert len(train) == 12 and test.bincount().tolist() == [2, 2, 2]  # int(6 * 0.34) per class
    again = DataSource("image_folder", path=str(tmp_path / "set" / "train"), image_size=8,
                       test_fraction=0.34, cache_dir=tmp_path / "c").load("test")
    assert torch.equal(again[0], plain.load("test")[0])


def test_cache_is_reused_and_invalidated_by_a_changed_file(image_folder, tmp_path, monkeypatch):
    folder = shutil.copytree(image_folder, tmp_path / "fruit")
    first = read_images(folder, 16, 3, cache_dir=tmp_path / "cache")
    (cached,) = (tmp_path / "cache").glob("*.safetensors")
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")]  # no temp left
    monkeypatch.setattr(image_cache, "decode", lambda *a: pytest.fail("decoded although cached"))
    assert torch.equal(read_images(folder, 16, 3, cache_dir=tmp_path / "cache").images, first.images)
    monkeypatch.undo()
    cached.write_bytes(cached.read_bytes()[:100])  # a cache cut short is decoded again
    assert torch.equal(read_images(folder, 16, 3, cache_dir=tmp_path / "cache").images, first.images)
    assert cached.stat().st_size > 100
    Image.new("RGB", (30, 30), (0, 0, 255)).save(folder / "apple" / "2.png")  # new content, new size
    changed = read_images(folder, 16, 3, cache_dir=tmp_path / "cache")
    assert not torch.equal(changed.images, first.images)
    assert len(list((tmp_path / "cache").glob("*.safetensors"))) == 2


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    if path.suffix != ".zip":
        path.mkdir(parents=True)
        path = path / "data.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _png(size=(8, 8), colour=(1, 2, 3)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def _files(root: Path, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True)
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


BAD_INPUTS = {  # case -> (make it under tmp_path, words the error must hold)
    "missing": (lambda t: t / "missing", "no such folder or .zip file"),
    "not a folder or zip": (lambda t: _files(t, {"file.png": _png()}) / "file.png",
                            "expected a folder or a .zip file"),
    "empty folder": (lambda t: _files(t / "empty", {}), "empty, no files at all"),
    "one class only": (lambda t: _files(t / "one", {"cat/1.png": _png(), "cat/2.png": _png()}),
                       "only one class folder (cat)"),
    "no images": (lambda t: _files(t / "texts", {"a/readme.txt": b"hi", "b/x.csv": b"1"}),
                  "no images among its 2 files"),
    "no class folders": (lambda t: _files(t / "loose", {"1.png": _png(), "2.png": _png()}),
                         "not inside class folders"),
    "a class of unreadable images": (
        lambda t: _files(t / "dead", {"cat/1.png": _png(), "dog/1.png": b"\x89PNG\r\n\x1a\n junk"}),
        "no readable image in class folder(s) dog"),
    "train and test next to classes": (
        lambda t: _files(t / "mixed", {"train/a/1.png": _png(), "test/a/1.png": _png(), "b/c/1.png": _png()}),
        "has train/ and test/ next to other folders (b)"),
    "test class unknown to train": (
        lambda t: _files(t / "split", {"train/a/1.png": _png(), "train/b/1.png": _png(),
                                       "test/c/1.png": _png()}),
        "test/ has classes that train/ lacks: c"),
    "not a zip": (lambda t: _files(t, {"notzip.zip": b"PK not really"}) / "notzip.zip",
                  "not a readable .zip file"),
    "zip with ..": (lambda t: _zip(t, {"cat/1.png": _png(), "../../evil.png": _png()}),
                    "member '../../evil.png' points outside"),
    "zip with an absolute name": (lambda t: _zip(t, {"cat/1.png": _png(), "/etc/evil.png": _png()}),
                                  "member '/etc/evil.png' points outside"),
    "zip with windows ..": (lambda t: _zip(t, {"cat/1.png": _png(), "dog\\..\\..\\evil.png": _png()}),
                            "points outside"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_every_bad_input_names_the_path_and_leaves_no_cache(tmp_path, case):
    make, words = BAD_INPUTS[case]
    path = make(tmp_path / "in")
    with pytest.raises(DataError) as e:
        read_images(path, 16, 3, cache_dir=tmp_path / "cache")
    assert words in str(e.value) and str(path) in str(e.value), str(e.value)
    assert not (tmp_path / "cache").exists()


def test_zip_traversal_member_writes_nothing_outside_the_cache(tmp_path):
    (tmp_path / "work").mkdir()
    archive = _zip(tmp_path / "work" / "x.zip", {"cat/1.png": _png(), "dog/1.png": _png(),
                                                "cat/../../../escaped.png": _png()})
    before = tree(tmp_path)
    with pytest.raises(DataError, match="points outside"):
        read_images(archive, 8, 3, cache_dir=tmp_path / "work" / "cache")
    assert tree(tmp_path) == before and not (tmp_path.parent / "escaped.png").exists()


def test_zip_bombs_are_refused_from_the_central_directory(tmp_path, monkeypatch):
    many = _zip(tmp_path / "many.zip", {f"c{i % 2}/{i}.png": b"x" for i in range(12)})
    huge = _zip(tmp_path / "huge.zip", {"a/1.png": bytes(3 << 20), "b/1.png": _png()})  # 3 MB of zeros
    big_file = tmp_path / "big.zip"
    big_file.write_bytes(huge.read_bytes() + bytes(2 << 20))  # 2 MB of trailing junk
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: pytest.fail("read a member"))
    tiny = replace(UPLOAD_LIMITS, max_entries=10, max_total_bytes=1 << 20, max_zip_bytes=1 << 20)
    with pytest.raises(DataError, match=r"many.zip: 12 entries, over the limit of 10 \(refused before"):
        read_images(many, 8, 3, tiny, tmp_path)
    with pytest.raises(DataError, match=r"huge.zip: 3 MB uncompressed, over the limit of 1 MB"):
        read_images(huge, 8, 3, tiny, tmp_path)
    with pytest.raises(DataError, match=r"big.zip: 2 MB, over the 1 MB limit for a zip"):
        read_images(big_file, 8, 3, tiny, tmp_path)
    one_file = replace(LOCAL_LIMITS, max_file_bytes=1 << 20)
    with pytest.raises(DataError, match=r"huge.zip/a/1.png: 3 MB, over the limit of 1 MB"):
        read_images(huge, 8, 3, one_file, tmp_path)


def test_upload_caps_classes_and_images(tmp_path):
    classes = _zip(tmp_path / "classes.zip", {f"c{i}/1.png": _png() for i in range(4)})
    with pytest.raises(DataError, match="4 classes, over the limit of 3"):
        read_images(classes, 8, 3, replace(UPLOAD_LIMITS, max_classes=3), tmp_path)
    with pytest.raises(DataError, match="4 images, over the limit of 3"):
        read_images(classes, 8, 3, replace(UPLOAD_LIMITS, max_images=3), tmp_path)


@pytest.mark.parametrize("side", [35, 50])  # Pillow warns above the limit, raises above twice it
def test_images_over_the_pixel_limit_are_errors(tmp_path, monkeypatch, side):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    for name in ("cat", "dog"):
        (tmp_path / "in" / name).mkdir(parents=True)
        (tmp_path / "in" / name / "1.png").write_bytes(_png((8, 8)))
    (tmp_path / "in" / "dog" / "big.png").write_bytes(_png((side, side)))
    with pytest.raises(DataError, match=r"in/dog/big.png: over Pillow's pixel limit of 1,000 pixels") as e:
        read_images(tmp_path / "in", 8, 3, cache_dir=tmp_path / "cache")
    assert f"Image size ({side * side} pixels) exceeds limit" in str(e.value)
    assert not (tmp_path / "cache").exists()


def test_settings_are_checked(tmp_path, image_folder):
    with pytest.raises(DataError, match="data.path=<folder or .zip> is required"):
        DataSource("image_folder")
    with pytest.raises(DataError, match="for your own images use data=image_folder"):
        DataSource("cifar10", path=str(image_folder))
    with pytest.raises(DataError, match="28x28 grey only"):
        DataSource("mnist", image_size=32)
    with pytest.raises(DataError, match="channels must be 1 or 3"):
        read_images(image_folder, 16, 2, cache_dir=tmp_path)
    with pytest.raises(DataError, match="data.limits must be one of local, upload"):
        DataSource("image_folder", path=str(image_folder), limits="huge")
