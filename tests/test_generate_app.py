"""The Generate tab against a launched app: every named endpoint through gradio_client, and the
page in a real headless Chromium (screenshots land in test-artifacts/)."""

import io
import socket
import time

import httpx
import pytest
from gradio_client import Client
from PIL import Image

from conftest import ROOT
from gan import load_generator, sampling
from gan.images import view_image
from gan.ui import build_app

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def test_generate_with_any_checkpoint_and_view(client, tiny_export):
    path = client.predict(label="7", seed=11, checkpoint=str(tiny_export), layout=sampling.LAYOUTS[1],
                          truncation=0.7, label_b="2", seed_b=5, t=0.25, direction_2=1.5,
                          api_name="/generate")
    assert pixels(path) == core_pixels(tiny_export, "7", 11, layout=sampling.LAYOUTS[1], truncation=0.7,
                                       shifts=(0, 1.5, 0, 0), label_b="2", seed_b=5, t=0.25)


@pytest.mark.parametrize("kwargs, message", [
    ({"label": "five", "seed": 3}, "unknown class 'five'"),
    ({"label": "5", "seed": -1}, "less than minimum value 0"),
    ({"label": "5", "seed": 2**40}, "greater than maximum value 4294967295"),
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
    assert "tiny test generator" in card and "val/fid" in card and "123.4" in card
    assert pixels(client.predict(label="5", seed=3, api_name="/generate")) == core_pixels(tiny_export, "5", 3)
    with pytest.raises(Exception, match="hf:someone/missing: not reachable"):
        client.predict(source="hf:someone/missing", api_name="/load_checkpoint")
    assert pixels(client.predict(label="5", seed=3, api_name="/generate")) == core_pixels(tiny_export, "5", 3)


def test_interpolate_returns_a_gif_from_a_to_b(client, tiny_export):
    path = client.predict(label="3", seed=1, label_b="8", seed_b=2, checkpoint=str(tiny_export),
                          api_name="/interpolate")
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


# ---------------------------------------------------------------- the page, in Chromium


def _src_changes(page, old: str, timeout_ms: int = 15000) -> str:
    page.wait_for_function("old => { const i = document.querySelector('#generated img');"
                           " return i && i.src !== old; }", arg=old, timeout=timeout_ms)
    return page.locator("#generated img").get_attribute("src")


def test_page_select_five_drag_the_interpolation_slider_and_load(url, tiny_export):
    playwright = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url)
            image = page.locator("#generated img")
            image.wait_for(timeout=30000)
            first = image.get_attribute("src")

            page.get_by_label("Class", exact=True).click()
            page.get_by_role("option", name="5", exact=True).click()
            fives = _src_changes(page, first)

            top, bottom = page.locator("#generated").bounding_box(), page.locator("#interp-t").bounding_box()
            clip = {"x": top["x"], "y": top["y"], "width": top["width"],
                    "height": bottom["y"] + bottom["height"] - top["y"]}  # the image and the t slider
            frames = [page.screenshot(clip=clip)]
            slider = page.locator("#interp-t input[type=range]").bounding_box()
            y = slider["y"] + slider["height"] / 2
            page.mouse.move(slider["x"] + 2, y)
            page.mouse.down()
            while_dragging = set()
            for step in range(1, 7):
                page.mouse.move(slider["x"] + slider["width"] * step / 6, y, steps=4)
                time.sleep(0.4)
                frames.append(page.screenshot(clip=clip))
                while_dragging.add(image.get_attribute("src"))
            page.mouse.up()
            assert len(while_dragging - {fives}) >= 2, "the image did not follow the slider while dragged"
            morphed = _src_changes(page, fives)
            assert morphed not in (first, fives)
            page.screenshot(path=str(ARTIFACTS / "generate.png"))

            # what the Train tab does: put a source in, load it; the image follows
            source = page.get_by_label("Source", exact=True)
            source.fill(str(tiny_export))
            source.press("Enter")
            page.get_by_role("button", name="Load", exact=True).click()
            page.get_by_text("tiny test generator").wait_for(timeout=15000)
            _src_changes(page, morphed)
        finally:
            browser.close()
    shots = [Image.open(io.BytesIO(f)).convert("RGB") for f in frames]
    shots[0].save(ARTIFACTS / "sliders.gif", save_all=True, append_images=shots[1:], duration=400, loop=0)
