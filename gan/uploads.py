"""Images uploaded in the Train tab: a .zip of class folders, checked before any run starts and
kept inside the run's own folder, so it goes away with the run.

The check is the image-folder check with the upload limits (`gan.limits.UPLOAD_LIMITS`:
zip size, entries, uncompressed size, member names, classes, images), read from the zip's
central directory only. The trainer decodes the images (into the run folder's own cache) and
skips unreadable ones, saying so in the run's log.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from gan.datasets import DataError
from gan.image_folder import Layout, ZipSource, parse_layout
from gan.limits import UPLOAD_LIMITS

UPLOAD_FILE = "upload.zip"  # inside the run folder
CACHE_FOLDER = "data-cache"  # the decoded images, inside the run folder too
_QUOTABLE = re.compile(r"[^'\"\\\n]+")  # a path that can sit between Hydra's single quotes


def check_upload(path: str | Path) -> Layout:
    """The zip's classes and images, or DataError saying what is wrong with it."""
    path = Path(path)
    if path.suffix.lower() != ".zip" or not path.is_file():
        raise DataError(f"upload a .zip file of class folders (cat/1.png, dog/2.png), got {path.name!r}")
    source = ZipSource(path, UPLOAD_LIMITS, label=path.name)  # messages name the file, not our folders
    try:
        return parse_layout(source.label, list(source.entries), UPLOAD_LIMITS)
    finally:
        source.close()


def store_upload(path: str | Path, run_folder: Path) -> Path:
    """Copy the checked zip into the run folder (temp file + rename: never half a zip)."""
    target = run_folder / UPLOAD_FILE
    tmp = run_folder / f".{UPLOAD_FILE}.{os.getpid()}.tmp"
    shutil.copyfile(path, tmp)
    os.replace(tmp, target)
    return target


def upload_overrides(run_folder: Path, image_size: int, channels: int) -> list[str]:
    """Hydra overrides that train on the run folder's upload with the upload limits."""
    folder = run_folder.resolve()
    if not _QUOTABLE.fullmatch(str(folder)):
        raise DataError(f"the runs folder path {str(folder)!r} has quotes or backslashes; choose another")
    return ["data=image_folder", f"data.path='{folder / UPLOAD_FILE}'", "data.limits=upload",
            f"data.cache_dir='{folder / CACHE_FOLDER}'", f"data.image_size={int(image_size)}",
            f"data.channels={int(channels)}"]
