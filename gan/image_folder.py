"""Image folders and zips: one subfolder of images per class, listed safely and never extracted.

    <root>/<class>/**/<image>                        every image; the test split is a seeded hold-out
    <root>/train/<class>/**  +  <root>/test/<class>/**  the given train and test splits

One wrapper folder around either layout (`my-pictures/cat/...`) is looked through. Class names
are the class folders' names, sorted. An image is any file with an extension Pillow registers;
other files, hidden ones and `__MACOSX/` are ignored (and counted).

A .zip is read member by member with `zipfile`, after its central directory was checked (member
names, entry count, uncompressed sizes against `gan.limits.FolderLimits`), so nothing is ever written
outside the cache and a zip bomb is refused before a byte of it is inflated.
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import Image

from gan.datasets import DataError
from gan.limits import LOCAL_LIMITS, MB, FolderLimits

Image.init()
IMAGE_EXTENSIONS = frozenset(ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN)
SPLIT_DIRS = {"train", "test"}
_UNSAFE_MEMBER = re.compile(r"(^|[/\\])\.\.([/\\]|$)|^[/\\]|^[A-Za-z]:")




@dataclass(frozen=True)
class Entry:
    """One file: its path inside the source (posix), size in bytes, and a change stamp."""

    name: str
    size: int
    stamp: str


class FolderSource:
    """The files below a folder."""

    def __init__(self, root: Path, limits: FolderLimits):
        self.label, self.root, self.limits = str(root), root, limits
        self.entries = {}
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for name in files:
                self._add(Path(folder) / name)

    def _add(self, path: Path) -> None:
        if len(self.entries) >= self.limits.max_entries:
            raise DataError(f"{self.label}: more than {self.limits.max_entries:,} files")
        stat = path.stat()
        name = path.relative_to(self.root).as_posix()
        self.entries[name] = Entry(name, stat.st_size, str(stat.st_mtime_ns))

    def read(self, name: str) -> bytes:
        _check_file_size(self.label, self.entries[name], self.limits)
        return (self.root / name).read_bytes()

    def close(self) -> None:
        pass


class ZipSource:
    """The members of a .zip, read in memory; the central directory is checked on opening."""

    def __init__(self, path: Path, limits: FolderLimits, label: str | None = None):
        self.label, self.limits = label or str(path), limits  # label: what messages call it
        if limits.max_zip_bytes and path.stat().st_size > limits.max_zip_bytes:
            raise DataError(f"{self.label}: {path.stat().st_size / MB:.3g} MB, over the "
                            f"{limits.max_zip_bytes / MB:.3g} MB limit for a zip")
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as e:
            raise DataError(f"{self.label}: not a readable .zip file ({e})") from None
        try:
            self.entries = self._checked_entries()
        except DataError:
            self.zip.close()
            raise

    def _checked_entries(self) -> dict[str, Entry]:
        infos = [i for i in self.zip.infolist() if not i.is_dir()]
        if len(infos) > self.limits.max_entries:
            raise DataError(f"{self.label}: {len(infos):,} entries, over the limit of "
                            f"{self.limits.max_entries:,} (refused before reading any)")
        for info in infos:
            if _UNSAFE_MEMBER.search(info.filename):
                raise DataError(f"{self.label}: refused, member {info.filename!r} points outside "
                                "the zip (absolute path or '..')")
        total = sum(i.file_size for i in infos)
        if total > self.limits.max_total_bytes:
            raise DataError(f"{self.label}: {total / MB:,.0f} MB uncompressed, over the limit of "
                            f"{self.limits.max_total_bytes / MB:,.0f} MB (refused before reading any)")
        return {i.filename: Entry(i.filename, i.file_size, f"{i.CRC:08x}-{i.date_time}") for i in infos}

    def read(self, name: str) -> bytes:
        _check_file_size(self.label, self.entries[name], self.limits)
        with self.zip.open(name) as f:  # inflates at most the declared size, checks the CRC
            return f.read(self.limits.max_file_bytes + 1)

    def close(self) -> None:
        self.zip.close()


def _check_file_size(label: str, entry: Entry, limits: FolderLimits) -> None:
    if entry.size > limits.max_file_bytes:
        raise DataError(f"{label}/{entry.name}: {entry.size / MB:.0f} MB, over the limit of "
                        f"{limits.max_file_bytes / MB:.0f} MB for one image")


def open_source(path: str | Path, limits: FolderLimits = LOCAL_LIMITS) -> FolderSource | ZipSource:
    """The folder or .zip at `path`, listed (and, for a zip, checked against `limits`)."""
    path = Path(path).expanduser()
    if path.is_dir():
        return FolderSource(path, limits)
    if path.is_file() and path.suffix.lower() == ".zip":
        return ZipSource(path, limits)
    if path.is_file():
        raise DataError(f"{path}: expected a folder or a .zip file")
    raise DataError(f"{path}: no such folder or .zip file")


# ---------------------------------------------------------------- layout


@dataclass(frozen=True)
class Item:
    """One image: its path in the source, its class index, and whether it is in test/."""

    name: str
    label: int
    test: bool


@dataclass(frozen=True)
class Layout:
    class_names: tuple[str, ...]
    items: tuple[Item, ...]
    split: bool  # the source gives train/ and test/
    ignored: int  # files that are not images, hidden, or outside any class folder


def _visible(parts: tuple[str, ...]) -> bool:
    return not any(p.startswith(".") or p == "__MACOSX" for p in parts)


def _strip_wrappers(paths: list[tuple[str, ...]]) -> int:
    """How many leading folders every path shares and is only a wrapper (class/file stays below)."""
    depth = 0
    while all(len(p) >= depth + 3 for p in paths) and len({p[depth] for p in paths}) == 1:
        depth += 1
    return depth


def parse_layout(label: str, names: list[str], limits: FolderLimits = LOCAL_LIMITS) -> Layout:
    """Classes and images of a source from its file names; DataError for every unusable layout."""
    if not names:
        raise DataError(f"{label}: empty, no files at all")
    paths = {n: PurePosixPath(n.replace("\\", "/")).parts for n in names}
    images = sorted(n for n, p in paths.items() if _visible(p) and PurePosixPath(n).suffix.lower()
                    in IMAGE_EXTENSIONS)
    if not images:
        raise DataError(f"{label}: no images among its {len(names):,} files (an image is a file "
                        "Pillow reads: .png, .jpg, .jpeg, .webp, .bmp, .gif, ...)")
    depth = _strip_wrappers([paths[n] for n in images])
    rel = {n: paths[n][depth:] for n in images}
    split = {p[0] for p in rel.values() if len(p) >= 3} >= SPLIT_DIRS
    min_len = 3 if split else 2
    placed = {n: p for n, p in rel.items() if len(p) >= min_len}
    if split and {p[0] for p in placed.values()} - SPLIT_DIRS:
        others = sorted({p[0] for p in placed.values()} - SPLIT_DIRS)
        raise DataError(f"{label}: has train/ and test/ next to other folders ({', '.join(others[:5])}); "
                        "put every class folder inside train/ and test/")
    if not placed:
        raise DataError(f"{label}: its {len(images):,} images are not inside class folders; "
                        "put each class's images in their own subfolder (cat/1.png, dog/2.png)")
    return _layout(label, placed, split, len(names) - len(placed), limits)


def _layout(label: str, placed: dict, split: bool, ignored: int, limits: FolderLimits) -> Layout:
    cls = (lambda p: p[1]) if split else (lambda p: p[0])
    train_classes = sorted({cls(p) for p in placed.values() if not split or p[0] == "train"})
    test_classes = {cls(p) for p in placed.values() if split and p[0] == "test"}
    if test_classes - set(train_classes):
        raise DataError(f"{label}: test/ has classes that train/ lacks: "
                        f"{', '.join(sorted(test_classes - set(train_classes)))}")
    if len(train_classes) < 2:
        raise DataError(f"{label}: only one class folder ({', '.join(train_classes)}); a "
                        "conditional GAN needs at least 2 (one subfolder of images per class)")
    if len(train_classes) > limits.max_classes:
        raise DataError(f"{label}: {len(train_classes):,} classes, over the limit of {limits.max_classes:,}")
    if len(placed) > limits.max_images:
        raise DataError(f"{label}: {len(placed):,} images, over the limit of {limits.max_images:,}")
    index = {c: i for i, c in enumerate(train_classes)}
    items = tuple(Item(n, index[cls(p)], split and p[0] == "test") for n, p in placed.items())
    return Layout(tuple(train_classes), items, split, ignored)
