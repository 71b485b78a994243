"""The Generate tab as a person sees it, in one real headless Chromium for the module: a link
opens its view, Copy link reproduces one, a downloaded PNG dropped back restores the controls,
the GIF plays inline, the 8 nearest training images, the per-class chart, a picked checkpoint
loads at once, sliders follow a drag. No page logs an error or a warning. Screenshots land in
test-artifacts/ (the README's pictures in docs/ are copied from there)."""

import io
import json
import time

import pytest
from gradio_client import Client
from PIL import Image

from conftest import ARTIFACTS, CHROMIUM_ARGS, free_port
from gan.checkpoints import BUNDLED_DIR
from gan.ui import build_app

playwright = pytest.importorskip("playwright.sync_api")
GRADIO_UPLOAD_WARNING = "warning: Method not implemented."


@pytest.fixture(scope="module")
def url():
    demo = build_app()
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    ARTIFACTS.mkdir(exist_ok=True)
    yield demo.local_url
    demo.close()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh page (own context, clipboard allowed); fails the test if the console had a warning
    or an error, or the page threw."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True,
                                  permissions=["clipboard-read", "clipboard-write"])
    logged = []
    context.on("console", lambda m: logged.append(f"{m.type}: {m.text}") if m.type in ("warning", "error") else None)
    context.on("weberror", lambda e: logged.append(f"uncaught: {e.error}"))
    page = context.new_page()
    yield page
    # Gradio's own client warns this when it closes an upload's stream (after every upload)
    assert [line for line in logged if line != GRADIO_UPLOAD_WARNING] == []
    for p in context.pages:  # no error toast: a view changed by a link, a PNG or a pick never errs
        assert p.locator(".toast-body.error").count() == 0, p.locator(".toast-body.error").first.inner_text()
    context.close()


def image_bytes(page, selector: str = "#generated img") -> bytes:
    return page.request.get(page.locator(selector).get_attribute("src")).body()


def shows(page, expected: bytes, selector: str = "#generated img", timeout_s: float = 30) -> None:
    """Wait until the image on the page is byte for byte `expected`."""
    deadline = time.time() + timeout_s
    while True:
        if page.locator(selector).count() and image_bytes(page, selector) == expected:
            return
        assert time.time() < deadline, "the page never showed the expected image"
        time.sleep(0.3)


def src_has(page, text: str) -> None:
    """Wait until the generated image's file name holds `text` (its recipe's class and seed)."""
    page.wait_for_function("x => document.querySelector('#generated img')?.src.includes(x)", arg=text)


def control(page, name: str):
    return page.locator(f"#control-{name} input").first


def test_a_link_opens_the_view_it_names(page, url):
    expected = open(Client(url, verbose=False).predict(label="5", seed=3, api_name="/generate"), "rb").read()
    page.goto(url + "?source=mnist&class=5&seed=3")
    shows(page, expected)
    assert control(page, "label").input_value() == "5" and control(page, "seed").input_value() == "3"
    page.screenshot(path=str(ARTIFACTS / "link.png"))


def test_copy_link_gives_a_link_that_reproduces_the_view(page, browser, url):
    page.goto(url + "?class=7&seed=42&t=0.3&directions=0,-1.5")
    src_has(page, "seed42")
    control(page, "seed").fill("43")  # then change the view by hand
    control(page, "seed").press("Enter")
    src_has(page, "seed43")
    time.sleep(1)  # let the last render land
    here = image_bytes(page)
    page.locator("#copy-link").click()
    link_box = page.locator("#link textarea")
    page.wait_for_function("() => document.querySelector('#link textarea').value.startsWith('http')")
    link = link_box.input_value()
    assert "class=7" in link and "seed=43" in link and "t=0.3" in link
    assert page.evaluate("navigator.clipboard.readText()") == link
    page.screenshot(path=str(ARTIFACTS / "copy-link.png"))
    other = page.context.new_page()
    other.goto(link)
    shows(other, here)


def test_a_downloaded_png_dropped_back_restores_every_control(page, url, tmp_path):
    page.goto(url + "?class=3&seed=77&t=0.5&class_b=8&directions=0,1.5")
    src_has(page, "seed77")
    time.sleep(1)
    with page.expect_download() as download:
        page.locator("#generated").get_by_label("Download").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("cgan-mnist-3-seed77-") and saved.suffix == ".png"
    with Image.open(saved) as png:
        assert png.text["class"] == "3" and png.text["directions"] == "0.0,1.5,0.0,0.0"

    page = page.context.new_page()  # a fresh page at the defaults
    page.goto(url)
    page.locator("#generated img").wait_for()
    page.locator("#drop input[type=file]").set_input_files(saved)
    shows(page, saved.read_bytes())
    values = {n: control(page, n).input_value() for n in ("label", "seed", "label_b", "seed_b", "direction_2")}
    assert values == {"label": "3", "seed": "77", "label_b": "8", "seed_b": "1", "direction_2": "1.5"}
    assert page.locator("#interp-t input[type=number]").input_value() == "0.5"
    page.screenshot(path=str(ARTIFACTS / "restored.png"), full_page=True)


def test_gif_plays_inline_nearest_images_and_the_per_class_chart(page, url):
    page.goto(url + "?class=3&seed=1&class_b=8&seed_b=2")
    src_has(page, "-3-seed1")
    page.locator("#animate").click()
    gif = page.locator("#gif img")
    gif.wait_for(timeout=60_000)
    src = gif.get_attribute("src")
    assert "/cgan-mnist-3-seed1-" in src and src.endswith(".gif")
    frames = Image.open(io.BytesIO(image_bytes(page, "#gif img")))
    assert frames.format == "GIF" and frames.n_frames == 24
    page.locator("#gif").screenshot(path=str(ARTIFACTS / "gif.png"))

    chart = page.locator("#class-chart svg")
    chart.scroll_into_view_if_needed()
    assert chart.is_visible() and chart.locator("rect").count() == 10
    page.locator("#find-nearest").click()  # the first time on a machine also builds the index
    page.wait_for_function("() => document.querySelectorAll('#nearest img').length === 8", timeout=300_000)
    assert "Nearest training image at distance" in page.locator("#nearest-text").inner_text()
    page.get_by_text("Model card facts").click()  # a list: no name breaks mid-word at 1400 px
    page.locator("#card").screenshot(path=str(ARTIFACTS / "card-facts.png"))
    page.get_by_text("Model card facts").click()
    page.set_viewport_size({"width": 1400, "height": 2600})  # all of it on screen for one shot
    top, bottom = page.locator("#card").bounding_box(), page.locator("#nearest").bounding_box()
    page.screenshot(path=str(ARTIFACTS / "quality-and-nearest.png"),
                    clip={"x": 0, "y": top["y"] - 8, "width": 1400, "height": bottom["y"] + bottom["height"] - top["y"] + 16})


def test_picking_a_checkpoint_loads_it_without_a_load_click(page, url):
    page.goto(url)
    page.locator("#generated img").wait_for()
    before, strip = image_bytes(page), image_bytes(page, "#strip-1 img")
    page.locator("#source input").click()
    page.get_by_role("option", name="fashion-mnist", exact=True).click()
    title = json.loads((BUNDLED_DIR / "fashion-mnist" / "card.json").read_text())["title"]
    page.get_by_text(title).wait_for(timeout=30_000)
    page.wait_for_function("() => document.querySelector('#control-label input').value === 'T-shirt/top'")
    deadline = time.time() + 30
    while image_bytes(page) == before or image_bytes(page, "#strip-1 img") == strip:
        assert time.time() < deadline, "the image or a direction strip did not follow the checkpoint"
        time.sleep(0.3)
    page.screenshot(path=str(ARTIFACTS / "picked-source.png"))
    page.locator("#random-seed_b").click()  # Seed B has its own Random
    page.wait_for_function("() => document.querySelector('#control-seed_b input').value !== '1'")


def test_sliders_follow_a_drag(page, url):
    """The README's pictures: the interpolation slider dragged from a 5 to a 9, frame by frame."""
    page.goto(url + "?class=5&seed=3")
    src_has(page, "-5-seed3")
    top, bottom = page.locator("#generated").bounding_box(), page.locator("#interp-t").bounding_box()
    clip = {"x": top["x"], "y": top["y"], "width": top["width"],
            "height": bottom["y"] + bottom["height"] - top["y"]}  # the image and the t slider
    frames, seen = [page.screenshot(clip=clip)], set()
    slider = page.locator("#interp-t input[type=range]").bounding_box()
    y = slider["y"] + slider["height"] / 2
    page.mouse.move(slider["x"] + 2, y)
    page.mouse.down()
    for step in range(1, 7):
        page.mouse.move(slider["x"] + slider["width"] * step / 6, y, steps=4)
        time.sleep(0.4)
        frames.append(page.screenshot(clip=clip))
        seen.add(page.locator("#generated img").get_attribute("src"))
    page.mouse.up()
    assert len(seen) >= 3, "the image did not follow the slider while dragged"
    time.sleep(1)
    page.screenshot(path=str(ARTIFACTS / "generate.png"))
    shots = [Image.open(io.BytesIO(f)).convert("RGB") for f in frames]
    shots[0].save(ARTIFACTS / "sliders.gif", save_all=True, append_images=shots[1:], duration=400, loop=0)


def colour_spread(png: bytes) -> float:
    """Mean absolute difference between the R, G and B planes (0 for a grey picture)."""
    import numpy as np

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float32)
    return float(np.abs(rgb[..., 0] - rgb[..., 1]).mean() + np.abs(rgb[..., 1] - rgb[..., 2]).mean())


def test_cifar10_class_picked_and_the_interpolation_slider_dragged_in_colour(page, url):
    """The bundled CIFAR-10 generator: pick "horse" in the class list, drag t; colour images change."""
    page.goto(url + "?source=cifar-10&seed=3")
    page.wait_for_function("() => document.querySelector('#control-label input')?.value === 'airplane'",
                           timeout=60_000)
    control(page, "label").click()
    page.get_by_role("option", name="horse", exact=True).click()
    src_has(page, "-horse-seed3")
    time.sleep(1)
    first = image_bytes(page)
    assert Image.open(io.BytesIO(first)).mode == "RGB" and colour_spread(first) > 5
    slider = page.locator("#interp-t input[type=range]").bounding_box()
    y = slider["y"] + slider["height"] / 2
    page.mouse.move(slider["x"] + 2, y)
    page.mouse.down()
    seen = set()
    for step in range(1, 5):
        page.mouse.move(slider["x"] + slider["width"] * step / 4, y, steps=4)
        time.sleep(0.5)
        seen.add(page.locator("#generated img").get_attribute("src"))
    page.mouse.up()
    time.sleep(1)
    last = image_bytes(page)
    assert len(seen) >= 3 and last != first and colour_spread(last) > 5
    page.screenshot(path=str(ARTIFACTS / "cifar10.png"))
