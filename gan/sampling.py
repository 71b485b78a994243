"""Sampling: seeds -> latents -> images. No Gradio, no pictures (see gan.images for those).

A `View` is everything one picture depends on: class and seed, the interpolation partner
(class B, seed B, t), truncation, latent-direction shifts and the layout. `sample` turns it into
a batch of images; `morph` into the frames of an animation from t=0 to t=1; `along` into a strip
along one latent direction. `class_rows` is the app's "one row per class" and an export's samples.png;
`class_balanced` the metrics' sample. Every image comes from `generate`. `standing_stats`
gives an (EMA) generator batch-norm statistics of its own before it is exported.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import threading
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from gan.limits import ACTIVATION_BUDGET, MAX_CLASS_ROWS, shown
from gan.nets import Generator

MAX_SEED = 2**32 - 1
LAYOUTS = ("one image", "grid of the class", "one row per class")
GRID_SIDE = 4  # "grid of the class" is GRID_SIDE x GRID_SIDE
PER_CLASS = 8  # images per row in "one row per class"
NUM_DIRECTIONS = 4


@dataclass(frozen=True)
class View:
    """label/label_b are class indices; shifts are in standard deviations along `directions`."""

    label: int
    seed: int
    layout: str = LAYOUTS[0]
    truncation: float = 1.0
    shifts: tuple[float, ...] = ()
    label_b: int | None = None
    seed_b: int | None = None
    t: float = 0.0
    per_class: int = PER_CLASS  # images per row in "one row per class"


def check_seed(seed, name: str = "seed") -> int:
    if seed is None or isinstance(seed, bool) or not math.isfinite(float(seed)) or seed != int(seed):
        raise ValueError(f"{name} must be a whole number, got {seed!r}")
    if not 0 <= int(seed) <= MAX_SEED:
        raise ValueError(f"{name} must be between 0 and {MAX_SEED}, got {int(seed)}")
    return int(seed)


def check_range(value, name: str, low: float, high: float) -> float:
    if value is None or not math.isfinite(float(value)) or not low <= float(value) <= high:
        raise ValueError(f"{name} must be a number between {low} and {high}, got {value!r}")
    return float(value)


class UnknownClass(ValueError):
    """A class name the generator does not have."""


def class_index(generator: Generator, name: str) -> int:
    if str(name) not in generator.class_names:
        raise UnknownClass(f"unknown class {shown(repr(name))}; this generator knows "
                         f"{shown(', '.join(generator.class_names))}")
    return generator.class_names.index(str(name))


def make_view(generator: Generator, label: str, seed, layout: str = LAYOUTS[0], truncation=1.0,
              shifts=(), label_b: str | None = None, seed_b=None, t=0.0) -> View:
    """A validated `View` from user-facing values (class names, numbers that may be NaN).
    Class B and seed B are checked only when used (t > 0); unused, they are dropped."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    t = check_range(t, "t", 0.0, 1.0)
    used = t > 0
    return View(class_index(generator, label), check_seed(seed), layout,
                check_range(truncation, "truncation", 0.0, 1.0),
                tuple(check_range(s, "direction", -10.0, 10.0) for s in shifts),
                class_index(generator, label_b) if used and label_b not in (None, "") else None,
                check_seed(seed_b, "seed B") if used and seed_b is not None else None, t)


# ---------------------------------------------------------------- latents and labels


def latents(seed: int, n: int, dim: int) -> torch.Tensor:
    """(n, dim) standard normal; row i comes from a CPU generator seeded with seed + i, so a seed
    gives the same latent in every process and in every layout (a grid shows seeds seed..seed+n-1)."""
    return torch.cat([torch.randn(1, dim, generator=torch.Generator().manual_seed(seed + i))
                      for i in range(n)])


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation row by row, (N, Z) x (N, Z) -> (N, Z); linear where a ~ b."""
    cos = F.cosine_similarity(a, b, dim=1).clamp(-1, 1).unsqueeze(1)  # (N, 1)
    omega = torch.arccos(cos)
    sin = torch.sin(omega)
    safe = sin.abs() > 1e-6
    wa = torch.where(safe, torch.sin((1 - t) * omega) / sin.where(safe, 1), torch.full_like(sin, 1 - t))
    wb = torch.where(safe, torch.sin(t * omega) / sin.where(safe, 1), torch.full_like(sin, t))
    return wa * a + wb * b


def blend_labels(a: torch.Tensor, b: torch.Tensor, t: float, num_classes: int) -> torch.Tensor:
    """Soft labels (N, K): (1 - t) of class a plus t of class b, for the label embedding."""
    return torch.lerp(F.one_hot(a, num_classes).float(), F.one_hot(b, num_classes).float(), t)


@functools.lru_cache(maxsize=8)
@torch.inference_mode()
def directions(generator: Generator, k: int = NUM_DIRECTIONS, samples: int = 1024) -> torch.Tensor:
    """(k, Z) unit latent directions, GANSpace-style (Härkönen et al. 2020): PCA of the first
    layer's activations over random (z, class) pairs, regressed back onto z. Cached per generator."""
    rng = torch.Generator().manual_seed(0)
    z = torch.randn(samples, generator.latent_dim, generator=rng)
    labels = torch.randint(generator.num_classes, (samples,), generator=rng)
    features = _first_linear_output(generator, z, labels)  # (S, D), D up to a few thousand
    centred = features - features.mean(0)
    # PCA through the (S, S) Gram matrix: its top eigenvectors times sqrt(eigenvalue) are the
    # samples' coordinates along the top principal axes; ~10x faster than an SVD when D > S.
    values, vectors = torch.linalg.eigh(centred @ centred.T)  # ascending
    coords = vectors[:, -k:].flip(1) * values[-k:].flip(0).clamp_min(0).sqrt()  # (S, k)
    u = torch.linalg.lstsq(coords, z).solution  # (k, Z): z ~ coords @ u
    return u / u.norm(dim=1, keepdim=True)


class _Stop(Exception):
    pass


def _first_linear_output(generator: Generator, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Run the generator only up to its first nn.Linear (whatever the body) and return its output."""
    first = next(m for m in generator.body.modules() if isinstance(m, nn.Linear))
    grabbed, caller = [], threading.get_ident()

    def grab(module, inputs, output):
        if threading.get_ident() != caller:
            return None  # another request's forward through the same generator: leave it alone
        grabbed.append(output.clone())
        raise _Stop

    handle = first.register_forward_hook(grab)
    try:
        generator(z, labels)
    except _Stop:
        pass
    finally:
        handle.remove()
    return grabbed[0]


# ---------------------------------------------------------------- sampling


def plan(view: View, num_classes: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Which latent row and which class each cell shows, and cells per row: (N,), (N,), nrow.
    In "one row per class", column j of every row uses latent seed + j."""
    if view.layout == LAYOUTS[1]:
        n = GRID_SIDE * GRID_SIDE
        return torch.arange(n), torch.full((n,), view.label), GRID_SIDE
    if view.layout == LAYOUTS[2]:  # at most MAX_CLASS_ROWS classes, a window holding the picked one
        count = min(num_classes, MAX_CLASS_ROWS)
        first = min(max(0, view.label - count // 2), num_classes - count)
        rows = torch.arange(view.per_class).repeat(count)
        return rows, torch.arange(first, first + count).repeat_interleave(view.per_class), view.per_class
    return torch.zeros(1, dtype=torch.long), torch.tensor([view.label]), 1


def view_inputs(generator: Generator, view: View) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(z (N, Z), labels (N,) int or (N, K) soft, nrow) for `view`."""
    rows, labels, nrow = plan(view, generator.num_classes)
    n = int(rows.max()) + 1
    z = latents(view.seed, n, generator.latent_dim)[rows]
    if view.seed_b is not None and view.seed_b != view.seed and view.t > 0:
        z = slerp(z, latents(view.seed_b, n, generator.latent_dim)[rows], view.t)
    z = z * view.truncation
    if any(view.shifts):
        shifts = torch.tensor(view.shifts, dtype=z.dtype)
        z = z + shifts @ directions(generator, len(view.shifts))  # (k,) @ (k, Z)
    if view.label_b is not None and view.t > 0:
        labels = blend_labels(labels, torch.full_like(labels, view.label_b), view.t, generator.num_classes)
    return z, labels, nrow


@functools.lru_cache(maxsize=64)
def _activations_per_image(config: str) -> int:
    """Elements all layers of the generator `config` (JSON) output for one image, from a pass
    on the meta device (no memory); an upper bound of what one image holds at once."""
    with torch.device("meta"):
        twin = Generator(**json.loads(config)).eval()
        sizes: list[int] = []
        hooks = [m.register_forward_hook(lambda m, i, out: sizes.append(out.numel()))
                 for m in twin.modules() if m is not twin]
        twin(torch.zeros(1, twin.latent_dim), torch.zeros(1, dtype=torch.long))
    for hook in hooks:
        hook.remove()
    return max(1, sum(sizes))


def images_per_call(generator: Generator) -> int:
    """How many images one generator call may make so that its activations stay within
    ACTIVATION_BUDGET: all of them for small generators, a few for a 256 px colour one."""
    return max(1, ACTIVATION_BUDGET // _activations_per_image(json.dumps(generator.config)))


@torch.inference_mode()
def generate(generator: Generator, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Images (N, C, H, W) in [-1, 1], on the CPU, from z (N, Z) and labels: on the generator's
    device, `images_per_call` at a time, so memory stays bounded whatever is asked. The generator
    is used as it is (exports and the EMA copy are in eval mode)."""
    device, step = next(generator.parameters()).device, images_per_call(generator)
    return torch.cat([generator(z[i:i + step].to(device), labels[i:i + step].to(device)).cpu()
                      for i in range(0, len(z), step)])


def sample(generator: Generator, view: View) -> tuple[torch.Tensor, int]:
    """Images (N, C, H, W) in [-1, 1] for `view`, and how many go in a row."""
    z, labels, nrow = view_inputs(generator, view)
    return generate(generator, z, labels), nrow


def class_rows(generator: Generator, per_class: int = PER_CLASS, seed: int = 0) -> torch.Tensor:
    """The app's "one row per class" at `seed`: images (K * per_class, C, H, W), row k of class k.
    An export's samples.png is exactly this."""
    return sample(generator, View(label=0, seed=seed, layout=LAYOUTS[2], per_class=per_class))[0]


def class_balanced(generator: Generator, per_class: int,
                   seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The metrics' sample: images (K * per_class, C, H, W), class i // per_class, and labels.

    Its latents are one stream seeded by `seed`, so each seed is an independent draw. (With
    `latents`' per-row seeds, seed s + 1 would be seed s's sample shifted by one latent, and
    "the same score under other seeds" would check nothing.) Same forward as every view."""
    labels = torch.arange(generator.num_classes).repeat_interleave(per_class)
    z = torch.randn(len(labels), generator.latent_dim, generator=torch.Generator().manual_seed(seed))
    return generate(generator, z, labels), labels


def standing_stats(generator: Generator, samples: int | None = None, batch: int = 256,
                   seed: int = 0) -> Generator:
    """A copy of `generator` whose batch norms normalise with its own statistics: the running
    mean and variance are recomputed over `samples` seeded, class-balanced draws ("standing
    statistics", Brock et al. 2019). An EMA generator otherwise carries the buffers of the
    trained G, measured over other weights; recomputing them took the MNIST residual
    generator's Frechet distance from 4.33 to 3.47-3.59 whether over 256 or 12,800 draws
    (README, "Round two"), so a few hundred keep it cheap (live snapshots every 30 s): by
    default 512 up to 32 px, fewer for larger images (128 at 64 px, about 2 s on one core)."""
    h, w = generator.img_shape[1:]
    samples = samples or min(512, max(128, 512 * 32 * 32 // (h * w)))
    g = copy.deepcopy(generator)
    norms = [m for m in g.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
    device, rng = next(g.parameters()).device, torch.Generator().manual_seed(seed)
    g.train()
    with torch.no_grad():
        for labels in (torch.arange(samples) % g.num_classes).split(batch):
            g(torch.randn(len(labels), g.latent_dim, generator=rng).to(device), labels.to(device))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    return g.eval()


def morph(generator: Generator, view: View, steps: int = 24) -> tuple[list[torch.Tensor], int]:
    """Frames from t=0 (class A, seed A) to t=1 (class B, seed B), each (N, C, H, W); and nrow."""
    frames = [sample(generator, replace(view, t=float(t))) for t in torch.linspace(0, 1, steps)]
    return [images for images, _ in frames], frames[0][1]


STRIP = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)  # standard deviations along a direction


def along(generator: Generator, view: View, direction: int, offsets=STRIP) -> torch.Tensor:
    """The view's first image with shift `direction` set to each offset: (len(offsets), C, H, W).
    The other shifts stay as they are, so the strip shows what this one slider does from here."""
    shifts = list(view.shifts) + [0.0] * (NUM_DIRECTIONS - len(view.shifts))
    z, labels = [], []
    for offset in offsets:
        shifts[direction] = float(offset)
        zi, yi, _ = view_inputs(generator, replace(view, layout=LAYOUTS[0], shifts=tuple(shifts)))
        z.append(zi)
        labels.append(yi)
    return generate(generator, torch.cat(z), torch.cat(labels))
