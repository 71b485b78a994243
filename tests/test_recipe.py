"""A picture's recipe: PNG text chunks and links that read back to the same picture."""

import io
from urllib.parse import parse_qsl

import pytest
from PIL import Image

from gan import load_generator
from gan.images import png_bytes
from gan.recipe import Recipe, RecipeError, from_text, picture, query, read_png, to_text, weights_digest
from gan.sampling import LAYOUTS


@pytest.fixture
def g(tiny_export):
    return load_generator(tiny_export)


def saved(image: Image.Image, tmp_path, name="x.png", **kwargs):
    path = tmp_path / name
    image.save(path, **kwargs)
    return path


def test_a_png_carries_its_recipe_and_reads_back_to_the_same_picture(g, tiny_export, tmp_path):
    recipe = Recipe(str(tiny_export), "7", 11, LAYOUTS[1], 0.7, "2", 5, 0.26, (0.0, 1.5, 0.0, -0.3))
    image = picture(g, recipe)
    path = tmp_path / "made.png"
    path.write_bytes(png_bytes(image))
    back = read_png(path)
    assert back == Recipe(**{**recipe.__dict__, "model": weights_digest(g)})
    assert picture(g, back).tobytes() == image.tobytes()
    with Image.open(path) as png:
        assert png.text["class"] == "7" and png.text["directions"] == "0.0,1.5,0.0,-0.3"


def test_weights_digest_follows_the_weights_not_the_file(g, tiny_export):
    again = load_generator(tiny_export)
    assert weights_digest(g) == weights_digest(again) and len(weights_digest(g)) == 64
    assert weights_digest(g) != weights_digest(load_generator("mnist"))


def test_links_hold_what_differs_from_the_defaults():
    recipe = Recipe("mnist", "5", 3, t=0.4, directions=(0.0, 2.0, 0.0, 0.0))
    text = dict(parse_qsl(query(recipe)))
    assert text == {"source": "mnist", "class": "5", "seed": "3", "t": "0.4", "directions": "0.0,2.0,0.0,0.0"}
    assert from_text(text) == recipe
    assert from_text({"source": "mnist", "class": "5", "seed": "3"}) == Recipe("mnist", "5", 3)
    assert from_text({"directions": "1"}).directions == (1.0, 0.0, 0.0, 0.0)


def test_controls_by_name_round_trip():
    recipe = Recipe("mnist", "5", 3, LAYOUTS[2], 0.5, "9", 4, 0.2, (1.0, 0.0, 0.0, -1.0))
    controls = recipe.controls()
    assert controls["direction_1"] == 1.0 and controls["direction_4"] == -1.0 and "directions" not in controls
    assert Recipe.from_controls("mnist", controls) == recipe
    assert list(controls) == ["label", "seed", "layout", "truncation", "label_b", "seed_b", "t",
                              "direction_1", "direction_2", "direction_3", "direction_4"]  # the API's order


@pytest.mark.parametrize("text, message", [
    ({"seed": "3.5"}, "seed must be a whole number, got '3.5'"),
    ({"t": "half"}, "t must be a number, got 'half'"),
    ({"directions": "1,2,3,4,5"}, "directions must be comma-separated numbers"),
])
def test_unreadable_values_name_their_key(text, message):
    with pytest.raises(RecipeError, match=message):
        from_text(text)


def test_pictures_without_a_recipe_are_refused_clearly(g, tmp_path):
    plain = Image.new("L", (28, 28))
    with pytest.raises(RecipeError, match="carries no cGAN Studio recipe"):
        read_png(saved(plain, tmp_path))
    with pytest.raises(RecipeError, match="not a PNG"):
        read_png(saved(plain, tmp_path, "x.jpg", format="JPEG"))
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(RecipeError, match="not a picture"):
        read_png(tmp_path / "junk.png")
    buf = io.BytesIO()
    picture(g, Recipe("x", "1", 1)).save(buf, format="PNG")  # PIL alone keeps no text chunks
    with pytest.raises(RecipeError):
        read_png(io.BytesIO(buf.getvalue()))


def test_text_does_not_depend_on_int_or_float():
    assert to_text(Recipe("m", "1", 3.0, truncation=1, t=0)) == to_text(Recipe("m", "1", 3, truncation=1.0, t=0.0))
