"""The Train tab's API through gradio_client against a launched app, with a real trainer process."""

import json
import time
import zipfile

import pytest
from PIL import Image
from gradio_client import Client
from gradio_client.exceptions import AppError

import gan.runs
from gan.run_params import RunParams
from gan.ui import build_app

TINY = "model.g_width=8\nmodel.d_width=8\nmodel.latent_dim=8\ntrainer.log_every_n_steps=1"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GAN_RUNS_DIR", str(root))
        mp.setattr(gan.runs, "_default", None)  # a fresh supervisor for this runs folder
        demo = build_app()
        demo.queue().launch(prevent_thread_lock=True, quiet=True)
        try:
            yield Client(demo.local_url, verbose=False), root
        finally:
            demo.close()


def open_train_tab(playwright, url: str):
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    page.goto(url)
    page.get_by_role("tab", name="Train").click()
    return browser, page


def start_tiny_run(page, batches: int) -> None:
    """One epoch of `batches` batches (0 = all) with tiny nets, started from the form."""
    page.get_by_label("Epochs").fill("1")
    page.get_by_label("Batches per epoch (0 = all)").fill(str(batches))
    page.get_by_text("Advanced overrides").click()
    page.get_by_label("One Hydra override per line").fill(TINY)
    page.get_by_role("button", name="Start").click()


def test_start_poll_until_finished_then_generate_from_export(app):
    client, root = app
    run_id = client.predict(dataset="mnist", epochs=1, batch_size=32, limit_batches=6, logger="none",
                            overrides=TINY, api_name="/start_run")
    assert (root / run_id / "params.json").exists()
    deadline, status = time.time() + 240, {}
    while status.get("state") not in ("finished", "failed", "stopped"):
        assert time.time() < deadline, status
        time.sleep(1)
        status = client.predict(run_id=run_id, api_name="/run_status")
    assert status["state"] == "finished", status
    assert status["batches_done"] == status["total_batches"] == 6 and status["progress"] == 1.0
    assert status["export"] == str((root / run_id / "export").resolve())

    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    if "/generate" not in endpoints:
        pytest.skip("this app has no /generate endpoint yet (the Generate tab is another issue)")
    image = client.predict(label="3", seed=0, checkpoint=status["export"], api_name="/generate")
    path = image if isinstance(image, str) else image["path"]
    with Image.open(path) as im:
        assert min(im.size) >= 28


@pytest.mark.parametrize("fields,words", [
    ({"overrides": "hydra.run.dir=/"}, "not allowed"),
    ({"overrides": "model._target_=os.system"}, "not allowed"),
    ({"epochs": -1}, "epochs must be between 1"),
    ({"loss": "hinge && reboot"}, "loss must be one of"),
])
def test_bad_input_is_a_clear_error_nothing_starts_and_server_keeps_serving(app, fields, words):
    client, root = app
    before = sorted(root.iterdir())
    with pytest.raises(AppError, match=words.replace("(", r"\(")):
        client.predict(**{**RunParams(limit_batches=1).to_dict(), **fields}, api_name="/start_run")
    with pytest.raises(AppError, match="not a run id"):
        client.predict(run_id="../../etc", api_name="/run_status")
    assert sorted(root.iterdir()) == before
    fake = root / "20200101-000000-00ff"
    fake.mkdir(exist_ok=True)
    (fake / "params.json").write_text(json.dumps(RunParams().to_dict()))
    (fake / "status.json").write_text(json.dumps({"state": "finished", "progress": 1.0}))
    assert client.predict(run_id=fake.name, api_name="/run_status")["state"] == "finished"


def test_page_start_watch_reload_keeps_form_then_open_in_generate(app):
    """Real headless Chromium: the form starts a run, the monitor shows it to the end, a reload
    brings the form back as it was, and "Open in Generate" hands the export to the Generate tab."""
    playwright = pytest.importorskip("playwright.sync_api")
    client, root = app
    with playwright.sync_playwright() as p:
        browser, page = open_train_tab(p, client.src)
        start_tiny_run(page, batches=5)
        page.get_by_text("finished · epoch 1/1 · 5/5 batches · 100%").wait_for(timeout=240_000)
        run_id = max(p.name for p in root.iterdir() if (p / "params.json").exists())
        assert (root / run_id / "export" / "config.json").exists()
        samples = page.get_by_text("Latest samples (one row per class)").locator(
            "xpath=ancestor::div[contains(@class, 'block')][1]").locator("img")
        samples.wait_for(timeout=10_000)  # the sample grid is shown

        page.reload()
        page.get_by_role("tab", name="Train").click()
        page.wait_for_function("() => [...document.querySelectorAll('input')].some(e => e.value === '5')")
        assert page.get_by_label("Epochs").input_value() == "1"

        page.wait_for_function("(x) => [...document.querySelectorAll('input')].some(e => e.value === x)",
                               arg=run_id)  # the run picker shows the newest run
        page.get_by_role("button", name="Open in Generate").click()
        # the tab switches only after the Generate tab loaded the source without an error
        playwright.expect(page.get_by_role("tab", name="Generate")).to_have_attribute(
            "aria-selected", "true", timeout=30_000)
        browser.close()


def test_page_uploads_a_zip_and_trains_it_to_finished(app, image_folder, tmp_path):
    """Real headless Chromium: "Upload images (.zip)", a zip of 3 class folders (with a broken
    PNG and a text file), Start; the run trains to `finished` on its own copy of the zip, and
    its export knows the folders' class names."""
    playwright = pytest.importorskip("playwright.sync_api")
    client, root = app
    archive = tmp_path / "fruit.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in sorted(image_folder.rglob("*")):
            z.write(p, p.relative_to(image_folder).as_posix())
    with playwright.sync_playwright() as p:
        browser, page = open_train_tab(p, client.src)
        page.get_by_label("Dataset").click()
        page.get_by_role("option", name="Upload images (.zip)").click()
        page.locator("input[type=file][accept='.zip']").set_input_files(str(archive))
        page.get_by_label("fruit.zip").wait_for(timeout=30_000)  # uploaded: the file row is shown
        page.get_by_label("Batch size").fill("6")
        start_tiny_run(page, batches=0)
        page.get_by_text("finished · epoch 1/1 · 3/3 batches · 100%").wait_for(timeout=240_000)
        browser.close()
    run = max((p for p in root.iterdir() if (p / "params.json").exists()), key=lambda p: p.name)
    params = json.loads((run / "params.json").read_text())
    assert params["dataset"] == "upload" and params["upload"] == "upload.zip"
    assert (run / "upload.zip").read_bytes() == archive.read_bytes()  # its own copy
    assert list((run / "data-cache").glob("*.safetensors"))  # decoded into the run folder
    config = json.loads((run / "export" / "config.json").read_text())
    assert config["class_names"] == ["apple", "banana", "cherry"] and config["img_shape"] == [3, 32, 32]
    assert "skipped 1 unreadable image(s): banana/broken.png" in (run / "output.log").read_text()


def test_start_run_refuses_a_server_path_as_upload(app, image_folder, tmp_path):
    client, root = app
    before = sorted(root.iterdir())
    with pytest.raises(AppError, match="not a file uploaded to this app"):
        client.predict(dataset="upload", upload=str(tmp_path / "x.zip"), api_name="/start_run")
    with pytest.raises(AppError, match="upload: choose a .zip"):
        client.predict(dataset="upload", api_name="/start_run")
    assert sorted(root.iterdir()) == before
