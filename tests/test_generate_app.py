"""The Generate tab against a launched app: every named endpoint through gradio_client (the page
itself, in Chromium: test_generate_page.py)."""

import io
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from gradio_client import Client
from PIL import Image

from conftest import ROOT, free_port
from gan import load_generator, sampling
from gan.images import view_image
from gan.recipe import weights_digest
from gan.ui import build_app


@pytest.fixture(scope="module")
def url():
    demo = build_app()
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    yield demo.local_url
    demo.close()


@pytest.fixture
def client(url):
    return Client(url, verbose=False, download_files=True)


def pixels(path) -> bytes:
    image = Image.open(path)
    assert image.format == "PNG"
    return image.tobytes()


def core_pixels(source, label, seed, **view) -> bytes:
    g = load_generator(source)
    images, nrow = sampling.sample(g, sampling.make_view(g, label, seed, **view))
    return view_image(images, nrow).tobytes()


def test_generate_defaults_to_the_bundled_mnist(client):
    path = client.predict(label="5", seed=3, api_name="/generate")
    assert pixels(path) == core_pixels("mnist", "5", 3)


def test_the_png_carries_its_recipe(client):
    path = client.predict(label="5", seed=3, truncation=0.8, direction_2=1.5, api_name="/generate")
    with Image.open(path) as png:
        text = png.text
    assert re.fullmatch(r"cgan-mnist-5-seed3-[0-9a-f]{12}\.png", Path(path).name)  # recipe, then content
    assert {k: text[k] for k in ("source", "class", "seed", "truncation", "directions", "class_b", "t")} == {
        "source": "mnist", "class": "5", "seed": "3", "truncation": "0.8", "directions": "0.0,1.5,0.0,0.0",
        "class_b": "9", "t": "0.0"}
    assert text["model_sha256"] == weights_digest(load_generator("mnist"))


def test_one_row_per_class_is_2x_and_is_the_exports_samples_png(client, tiny_export):
    """The app's "one row per class" and samples.png are the same picture for the same seed."""
    path = client.predict(label="0", seed=0, checkpoint=str(tiny_export), layout=sampling.LAYOUTS[2],
                          api_name="/generate")
    with Image.open(path) as app, Image.open(tiny_export / "samples.png") as samples:
        assert app.size == samples.size == (2 * (8 * 30 + 2), 2 * (10 * 30 + 2))  # 2x, 2-px borders
        assert app.tobytes() == samples.tobytes()
    other = client.predict(label="0", seed=1, checkpoint=str(tiny_export), layout=sampling.LAYOUTS[2],
                           api_name="/generate")
    assert pixels(other) != pixels(path)


def test_generate_with_any_checkpoint_and_view(client, tiny_export):
    path = client.predict(label="7", seed=11, checkpoint=str(tiny_export), layout=sampling.LAYOUTS[1],
                          truncation=0.7, label_b="2", seed_b=5, t=0.25, direction_2=1.5,
                          api_name="/generate")
    assert pixels(path) == core_pixels(tiny_export, "7", 11, layout=sampling.LAYOUTS[1], truncation=0.7,
                                       shifts=(0, 1.5, 0, 0), label_b="2", seed_b=5, t=0.25)


@pytest.mark.parametrize("kwargs, message", [
    ({"label": "five", "seed": 3}, "unknown class 'five'"),
    ({"label": "5", "seed": -1}, "seed must be between 0 and 4294967295, got -1"),
    ({"label": "5", "seed": 2**40}, "seed must be between 0 and 4294967295"),
    ({"label": "5", "seed": 3, "checkpoint": "hf:nobody/nothing"}, "hf:nobody/nothing: not loaded yet: load it first"),
    ({"label": "5", "seed": 3, "checkpoint": "/no/such/run"}, "/no/such/run: no such file or folder"),
])
def test_bad_values_are_clear_errors_and_the_server_keeps_serving(client, kwargs, message):
    with pytest.raises(Exception, match=message):
        client.predict(**kwargs, api_name="/generate")
    assert pixels(client.predict(label="1", seed=1, api_name="/generate"))


def test_nan_over_raw_http_is_an_error(url):
    """JSON clients cannot send NaN, but a raw request can; it must not render or crash."""
    body = '{"data": [null, "mnist", "5", 3, "", "one image", NaN, "9", 1, 0.0, 0, 0, 0, 0]}'  # owner, loaded: states
    r = httpx.post(f"{url}gradio_api/call/generate", content=body,
                   headers={"content-type": "application/json"}, timeout=30)
    assert r.status_code == 200, r.text
    events = httpx.get(f"{url}gradio_api/call/generate/{r.json()['event_id']}", timeout=30).text
    assert "event: error" in events and "truncation must be a number" in events, events


def test_load_checkpoint_sets_the_session_and_a_bad_one_keeps_it(client, tiny_export):
    label, label_b, card = client.predict(source=str(tiny_export), api_name="/load_checkpoint")
    assert "tiny test generator" in card and "Measured during training" in card and "| 123.400 |" in card
    assert pixels(client.predict(label="5", seed=3, api_name="/generate")) == core_pixels(tiny_export, "5", 3)
    with pytest.raises(Exception, match="hf:someone/missing: not reachable"):
        client.predict(source="hf:someone/missing", api_name="/load_checkpoint")
    assert pixels(client.predict(label="5", seed=3, api_name="/generate")) == core_pixels(tiny_export, "5", 3)


def test_interpolate_returns_a_gif_from_a_to_b(client, tiny_export):
    path = client.predict(label="3", seed=1, label_b="8", seed_b=2, checkpoint=str(tiny_export),
                          api_name="/interpolate")
    assert path.endswith(".gif")
    gif = Image.open(path)
    assert gif.format == "GIF" and gif.n_frames == 24
    first = gif.convert("L").tobytes()
    gif.seek(gif.n_frames - 1)
    assert gif.convert("L").tobytes() != first
    assert first == Image.open(io.BytesIO(_png(tiny_export, "3", 1))).convert("L").tobytes()


def _png(source, label, seed) -> bytes:
    g = load_generator(source)
    images, nrow = sampling.sample(g, sampling.make_view(g, label, seed))
    buf = io.BytesIO()
    view_image(images, nrow).save(buf, format="PNG")
    return buf.getvalue()


def test_expected_errors_print_no_traceback(client, capfd):
    """A person's mistake is answered on the page; the server's terminal stays quiet."""
    for kwargs in ({"label": "five", "seed": 3}, {"label": "5", "seed": -1},
                   {"label": "5", "seed": 3, "checkpoint": "/no/such/run"}):
        with pytest.raises(Exception):
            client.predict(**kwargs, api_name="/generate")
    with pytest.raises(Exception, match="hf:x/y"):
        client.predict(source="hf:x/y", api_name="/load_checkpoint")
    with pytest.raises(Exception, match="Epochs must be between 1"):
        client.predict(epochs=-1, api_name="/start_run")
    err = capfd.readouterr().err
    assert "Traceback" not in err, err[-3000:]


def test_the_app_imports_no_lightning_torchmetrics_or_wandb():
    """Import time is cold-start time: the app needs none of the trainer's packages to serve."""
    code = ("import sys, gan.ui; heavy = [m for m in ('pytorch_lightning', 'torchmetrics', 'wandb') "
            "if m in sys.modules]; assert not heavy, heavy")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
