"""Runs that belong to someone, against a launched app in public mode with real trainers:
two gradio_client clients (B cannot see, read or stop A's run; A stops it at once, even when
its trainer hangs), and a real Chromium page whose reload still owns its run."""

import os
import signal
import time

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

import gan.runs
from conftest import CHROMIUM_ARGS, free_port
from gan.status import process_start_time
from gan.ui import build_app

TINY = "model.g_width=8\nmodel.d_width=8\nmodel.latent_dim=8\ntrainer.log_every_n_steps=1"
# the longest run public limits allow (3 epochs x 200 batches): it is stopped long before its end
LONG = {"epochs": 3, "batch_size": 16, "limit_batches": 200, "logger": "none", "overrides": TINY}
NOBODYS = "20260101-000000-0b0b"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("public-runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GAN_PUBLIC", "1")
        mp.setenv("GAN_SPACE_TRAINING", "1")
        mp.setenv("GAN_RUNS_DIR", str(root))
        mp.setattr(gan.runs, "_default", None)  # a fresh supervisor, in public mode, for this folder
        demo = build_app()
        demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
        try:
            yield demo.local_url, root
        finally:
            demo.close()


def error_of(client, api_name, **kwargs) -> str:
    with pytest.raises(AppError) as err:
        client.predict(**kwargs, api_name=api_name)
    return str(err.value)


def wait_for(client, run_id, ok, timeout_s=180):
    deadline = time.time() + timeout_s
    while not ok(status := client.predict(run_id=run_id, api_name="/run_status")):
        assert time.time() < deadline, status
        time.sleep(0.5)
    return status


def test_b_cannot_see_read_or_stop_as_run_and_a_stops_it_at_once_though_it_hangs(app):
    url, root = app
    a, b = Client(url, verbose=False), Client(url, verbose=False)
    run_id = a.predict(**LONG, api_name="/start_run")
    for api_name in ("/run_status", "/stop_run"):  # exactly the message of a run that does not exist
        assert error_of(b, api_name, run_id=run_id).replace(run_id, "<id>") == \
            error_of(b, api_name, run_id=NOBODYS).replace(NOBODYS, "<id>")
    assert b.predict(api_name="/list_runs") == []
    assert [r["id"] for r in a.predict(api_name="/list_runs")] == [run_id]
    assert "already running (not yours)" in error_of(b, "/start_run", **LONG)
    assert not (root / run_id / "STOP").exists() and len(list(root.iterdir())) == 1

    pid = wait_for(a, run_id, lambda s: s["state"] == "running" and s.get("batches_done", 0) >= 1)["pid"]
    os.kill(pid, signal.SIGSTOP)  # a hung trainer: it will never read the STOP file
    try:
        assert a.predict(run_id=run_id, api_name="/stop_run")["state"] == "stopping"
        assert process_start_time(pid) is not None  # /stop_run did not wait for the process
        assert b.predict(api_name="/list_runs") == []  # others are served meanwhile
        assert b.predict(label="3", seed=1, api_name="/generate")
        assert a.predict(run_id=run_id, api_name="/stop_run")["state"] == "stopping"  # asked twice
    finally:
        os.killpg(pid, signal.SIGKILL)  # spare the test the 60 s grace; the escalation sees it gone
    final = wait_for(a, run_id, lambda s: s["state"] not in ("starting", "running", "stopping"))
    assert final["state"] == "stopped" and "process ended" in final["message"]


def test_a_reload_still_owns_the_run_and_another_browser_does_not_see_it(app):
    """Real headless Chromium: start from the form, reload, the run is still this page's; a second
    browser (its own localStorage) sees no run; Stop from the reloaded page stops it."""
    playwright = pytest.importorskip("playwright.sync_api")
    url, root = app
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            page.goto(url)
            page.get_by_text("Public mode").wait_for(timeout=30_000)
            page.get_by_role("tab", name="Train").click()
            page.get_by_label("Epochs").fill("3")
            page.get_by_label("Batches per epoch (0 = all)").fill("200")
            page.get_by_label("Batch size").fill("16")
            page.get_by_text("Advanced overrides").click()
            page.get_by_label("One Hydra override per line").fill(TINY)
            before = {p.name for p in root.iterdir()}
            page.get_by_role("button", name="Start").click()
            page.get_by_text("Started run").wait_for(timeout=30_000)
            (run_id,) = {p.name for p in root.iterdir()} - before

            page.reload()
            page.get_by_role("tab", name="Train").click()
            page.wait_for_function("(x) => [...document.querySelectorAll('input')].some(e => e.value === x)",
                                   arg=run_id, timeout=30_000)  # the picker holds this page's run

            other = browser.new_context().new_page()  # another visitor: its own localStorage
            other.goto(url)
            other.get_by_role("tab", name="Train").click()
            other.wait_for_function("() => [...document.querySelectorAll('input')].some("
                                    "e => e.value === '5')", timeout=30_000)  # its form: defaults
            assert run_id not in other.content()

            page.get_by_role("button", name="Stop", exact=True).click()
            page.get_by_text("stopped").first.wait_for(timeout=120_000)
        finally:
            browser.close()
    assert (root / run_id / "STOP").exists()
