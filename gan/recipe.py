"""A picture's recipe: the checkpoint source and every control that made it, as text that travels
with the picture (PNG text chunks) or in a link (query parameters). No Gradio here.

    source        checkpoint source (bundled name, folder, hf:..., wandb:...)
    class, seed   class name and whole-number seed
    layout        one of sampling.LAYOUTS;  truncation  0..1
    directions    comma-separated shifts along the latent directions, in standard deviations
    class_b, seed_b, t   the interpolation partner and how far towards it
    model_sha256  (PNG only) sha256 of the generator's weights, to tell whether the same
                  weights made the picture

The API and the Generate tab name the controls `label`, `seed`, ..., `direction_1`..`direction_N`
(`from_controls` / `controls`); text uses the keys above.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from urllib.parse import urlencode

from PIL import Image

from gan.images import view_image
from gan.nets import Generator
from gan.sampling import LAYOUTS, NUM_DIRECTIONS, View, make_view, sample

TEXT_KEYS = {"label": "class", "label_b": "class_b", "model": "model_sha256"}  # others: field name
DIRECTION = "direction_{}"  # the API's and the tab's name of direction slider i (1-based)


class RecipeError(ValueError):
    """Text that is not a recipe, or a value in it that cannot be read; the message says which."""


@dataclass(frozen=True)
class Recipe:
    """Fields in the API's order of its controls; `label`/`label_b` "" mean the first/last class."""

    source: str = ""
    label: str = ""
    seed: int = 0
    layout: str = LAYOUTS[0]
    truncation: float = 1.0
    label_b: str = ""
    seed_b: int = 1
    t: float = 0.0
    directions: tuple[float, ...] = (0.0,) * NUM_DIRECTIONS
    model: str = ""

    @classmethod
    def from_controls(cls, source: str, values: dict) -> "Recipe":
        """From the tab's / API's control values by name (`direction_i` become `directions`)."""
        shifts = tuple(values.get(DIRECTION.format(i + 1), 0.0) for i in range(NUM_DIRECTIONS))
        known = {f.name for f in fields(cls)} - {"source", "directions", "model"}
        return cls(source=source, directions=shifts, **{k: v for k, v in values.items() if k in known})

    def controls(self) -> dict:
        """Control name -> value, the inverse of `from_controls` (source and model left out)."""
        values = {k: v for k, v in asdict(self).items() if k not in ("source", "directions", "model")}
        return {**values, **{DIRECTION.format(i + 1): s for i, s in enumerate(self.directions)}}

    def view(self, generator: Generator) -> View:
        """The validated sampling view (raises ValueError naming the bad value)."""
        names = generator.class_names
        return make_view(generator, self.label or names[0], self.seed, self.layout, self.truncation,
                         self.directions, self.label_b or names[-1], self.seed_b, self.t)

    def filled(self, generator: Generator) -> "Recipe":
        """The same recipe with "" classes replaced by the generator's first / last class."""
        names = generator.class_names
        return replace(self, label=self.label or names[0], label_b=self.label_b or names[-1])


# ---------------------------------------------------------------- as text


def to_text(recipe: Recipe) -> dict[str, str]:
    """Every field as text, keyed as in the module docstring."""
    out, default = {}, Recipe()
    for name, value in asdict(recipe).items():
        kind = type(getattr(default, name))
        if name == "directions":  # repr: the shortest text that reads back as the same float
            value = ",".join(repr(float(s)) for s in value)
        elif kind is float and isinstance(value, (int, float)):
            value = repr(float(value))  # a slider's 1 and 1.0 are the same value
        elif kind is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        out[TEXT_KEYS.get(name, name)] = str(value)
    return out


def from_text(text: dict[str, str]) -> Recipe:
    """A recipe from text keys (a PNG's chunks, a link's query); absent keys take the defaults.

    Raises:
        RecipeError: naming the key whose value cannot be read.
    """
    values = {}
    for f in fields(Recipe):
        key = TEXT_KEYS.get(f.name, f.name)
        if key in text:
            values[f.name] = _parse(key, f.name, str(text[key]).strip())
    return Recipe(**values)


def _parse(key: str, name: str, raw: str):
    kind = type(getattr(Recipe(), name))
    try:
        if name == "directions":
            shifts = tuple(float(s) for s in raw.split(",") if s.strip())
            if len(shifts) > NUM_DIRECTIONS:
                raise ValueError(f"at most {NUM_DIRECTIONS} numbers")
            return shifts + (0.0,) * (NUM_DIRECTIONS - len(shifts))
        return int(raw) if kind is int else float(raw) if kind is float else raw
    except ValueError as e:
        what = {int: "a whole number", float: "a number"}.get(kind, "comma-separated numbers")
        raise RecipeError(f"{key} must be {what}, got {raw!r} ({e})") from None


def query(recipe: Recipe) -> str:
    """A link's query string: source, class and seed always, other keys where not the default."""
    default, text = to_text(Recipe()), to_text(replace(recipe, model=""))
    always = ("source", "class", "seed")
    return urlencode({k: v for k, v in text.items() if k in always or v != default[k]}, safe=",/:@")


def read_png(path: str | Path) -> Recipe:
    """The recipe in a PNG made here.

    Raises:
        RecipeError: not a PNG, or a PNG without a recipe (one not made by cGAN Studio).
    """
    try:
        with Image.open(path) as image:
            text = dict(getattr(image, "text", {}) or {}) if image.format == "PNG" else None
    except (OSError, ValueError) as e:
        raise RecipeError(f"not a picture ({e})") from None
    if text is None:
        raise RecipeError("not a PNG: only PNGs saved from this app carry a recipe")
    if not {"source", "class", "seed"} <= set(text):
        raise RecipeError("this PNG carries no cGAN Studio recipe (no source, class and seed in it)")
    return from_text(text)


# ---------------------------------------------------------------- the picture


@functools.lru_cache(maxsize=8)
def weights_digest(generator: Generator) -> str:
    """sha256 over the generator's weights (tensor names, dtypes, shapes and bytes, sorted by name):
    the same for the same weights whatever file they came from. Cached per loaded generator."""
    h = hashlib.sha256()
    for name, tensor in sorted(generator.state_dict().items()):
        h.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def picture(generator: Generator, recipe: Recipe) -> Image.Image:
    """The picture `recipe` makes with `generator`, its recipe (with the weights' digest) attached
    as PNG text (`image.info`, written by PIL / Gradio when saved as PNG)."""
    images, nrow = sample(generator, recipe.view(generator))
    image = view_image(images, nrow)
    image.info.update(to_text(replace(recipe, model=weights_digest(generator))))
    return image
