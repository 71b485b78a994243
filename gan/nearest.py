"""Is it copying? The training images nearest to a generated one in the judge's feature space,
against the typical distance between real images.

The index of a dataset is the judge's features of its whole training split (float16), built once
and cached on disk as `<cache>/nearest/<dataset>-<judge sha256[:12]>.pt` (a new judge builds a new
one), with the typical real-to-real distance: for 1,000 seeded training images, the distance to
their nearest other training image (5th, 50th and 95th percentile). The judge and the data load
on first use only (they import Lightning, which the app does not need until then).
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from gan.fetch import CACHE_DIR

K = 8
TYPICAL_SAMPLE = 1000
EMBED_BATCH = 1000
_BUILD_LOCK = threading.Lock()


@dataclass(frozen=True)
class Index:
    """Training features (N, D) float32 in memory, and real-to-real nearest-neighbour distance
    percentiles (5th, 50th, 95th)."""

    dataset: str
    features: torch.Tensor
    typical: tuple[float, float, float]
    build_seconds: float


@dataclass(frozen=True)
class Match:
    """The k nearest training images: their indices in the split, distances and images."""

    indices: list[int]
    distances: list[float]
    images: torch.Tensor  # (k, C, H, W) in [-1, 1]
    typical: tuple[float, float, float]


def has_judge(dataset: str | None) -> bool:
    from gan.judge import judge_dir

    return bool(dataset) and (judge_dir(dataset) / "model.safetensors").is_file()


def index_path(dataset: str, cache_dir: Path) -> Path:
    from gan.judge import judge_dir

    digest = hashlib.sha256((judge_dir(dataset) / "model.safetensors").read_bytes()).hexdigest()
    return Path(cache_dir) / "nearest" / f"{dataset}-{digest[:12]}.pt"


def load_index(dataset: str, cache_dir: str | Path | None = None, limit: int | None = None,
               progress: Callable[[float], None] | None = None) -> Index:
    """The dataset's index from memory, else from disk, else built (and saved).

    Args:
        limit: index only the first `limit` training images (tests); the app indexes them all.
        progress: called with the fraction built so far while building.
    """
    path = index_path(dataset, Path(cache_dir or CACHE_DIR))
    if limit:
        path = path.with_name(f"{path.stem}-first{limit}.pt")
    return _cached_index(dataset, path, limit, progress)


@functools.lru_cache(maxsize=4)
def _in_memory(path: Path) -> Index:
    saved = torch.load(path, weights_only=True)
    return Index(saved["dataset"], saved["features"].float(), tuple(saved["typical"]), saved["build_seconds"])


def _cached_index(dataset: str, path: Path, limit: int | None, progress) -> Index:
    with _BUILD_LOCK:  # two first requests build once
        if not path.is_file():
            _save(build(dataset, limit, progress), path)
    return _in_memory(path)


def _save(index: Index, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"dataset": index.dataset, "features": index.features.half(), "typical": list(index.typical),
                "build_seconds": index.build_seconds}, tmp)
    tmp.replace(path)


@torch.inference_mode()
def build(dataset: str, limit: int | None = None, progress=None) -> Index:
    """Embed the training split with the judge and measure the typical real-to-real distance."""
    from gan.judge import load_judge

    t0 = time.perf_counter()
    judge = load_judge(dataset)
    images = _train_images(dataset)[:limit]
    batches, features = images.split(EMBED_BATCH), []
    for i, batch in enumerate(batches):
        features.append(judge.features(_unit(batch)))
        if progress:
            progress((i + 1) / len(batches))
    features = torch.cat(features)  # (N, D)
    return Index(dataset, features, typical_distance(features), round(time.perf_counter() - t0, 1))


def typical_distance(features: torch.Tensor, n: int = TYPICAL_SAMPLE, seed: int = 0) -> tuple[float, ...]:
    """5th, 50th, 95th percentile of a seeded sample's distance to its nearest other point."""
    picks = torch.randperm(len(features), generator=torch.Generator().manual_seed(seed))[:n]
    d = torch.cdist(features[picks], features)  # (n, N)
    d[torch.arange(len(picks)), picks] = float("inf")  # not itself
    nn = d.min(dim=1).values
    return tuple(round(float(q), 4) for q in torch.quantile(nn, torch.tensor([0.05, 0.5, 0.95])))


@torch.inference_mode()
def find(dataset: str, image: torch.Tensor, k: int = K, **index_kwargs) -> Match:
    """The k training images nearest to `image` (C, H, W) in [-1, 1], nearest first."""
    index = load_index(dataset, **index_kwargs)
    query = _judge(dataset)(image.unsqueeze(0))  # (1, D)
    distances, indices = torch.cdist(query, index.features)[0].topk(k, largest=False)
    found = indices.tolist()
    return Match(found, distances.tolist(), _unit(_train_images(dataset)[found]), index.typical)


@functools.lru_cache(maxsize=4)
def _judge(dataset: str):
    from gan.judge import load_judge

    return load_judge(dataset).features


@functools.lru_cache(maxsize=2)
def _train_images(dataset: str) -> torch.Tensor:
    from gan.data import load_split

    return load_split(dataset, "train")[0]  # (N, C, H, W) uint8


def _unit(images: torch.Tensor) -> torch.Tensor:
    from gan.data import to_unit_range

    return to_unit_range(images)  # uint8 -> [-1, 1]


def verdict(distance: float, typical: tuple[float, float, float]) -> str:
    """How the nearest distance compares with real images' own nearest neighbours."""
    low, median, _ = typical
    if distance < low:
        return ("closer than 95% of real images are to their own nearest neighbour: "
                "this may be a near-copy of a training image")
    if distance < median:
        return "about as close as real images are to each other: no sign of copying"
    return "farther than a typical real image is from its nearest neighbour: not a copy"
