"""Hugging Face Space readiness: the README's Space card, and secrets that never reach disk or page."""

import re
import time
import urllib.request

import gradio
from huggingface_hub import SpaceCard

from conftest import ROOT
from gan.run_params import RunParams
from gan.runs import Supervisor

WANDB_SENTINEL = "sentinelwandbkey" + "0" * 24  # 40 characters, shaped like a real W&B key
HF_SENTINEL = "hf_sentinelHubTokenThatMustNeverLeak"


def pinned(package: str) -> str:
    text = (ROOT / "requirements.txt").read_text()
    return re.search(rf"^{package}==(\S+)$", text, re.M).group(1)


def test_readme_front_matter_is_a_valid_space_card():
    data = SpaceCard.load(ROOT / "README.md").data
    assert data.sdk == "gradio" and (ROOT / data.app_file).is_file()
    assert data.sdk_version == pinned("gradio") == gradio.__version__
    assert str(data.python_version) == "3.11"
    assert data.license and data.title and data.emoji
    assert 0 < len(data.short_description) <= 60  # the Hub's limit
    assert data.models and all(re.fullmatch(r"[\w.-]+/[\w.-]+", m) for m in data.models)


def files_holding(folder, secrets: list[str]) -> list[str]:
    hits = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits += [f"{path.relative_to(folder)}: {s[:12]}..." for s in secrets if s.encode() in data]
    return hits


def test_no_token_in_any_file_a_run_writes(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_API_KEY", WANDB_SENTINEL)
    monkeypatch.setenv("HF_TOKEN", HF_SENTINEL)
    monkeypatch.setenv("WANDB_MODE", "offline")  # a key is set, but there is no network here
    sup = Supervisor(tmp_path, max_running=1)
    run_id = sup.start(RunParams(epochs=1, batch_size=16, limit_batches=4, logger="wandb",
                                 overrides="model.g_width=8\nmodel.d_width=8\nmodel.latent_dim=8"))
    deadline = time.time() + 180
    while (status := sup.status(run_id))["state"] in ("starting", "running"):
        assert time.time() < deadline, status
        time.sleep(0.5)
    assert status["state"] == "finished", status
    folder = tmp_path / run_id
    written = {p.name for p in folder.rglob("*") if p.is_file()}
    assert {"params.json", "status.json", "output.log", "config.yaml", "card.json"} <= written
    assert any(name.endswith(".wandb") for name in written)
    assert files_holding(folder, [WANDB_SENTINEL, HF_SENTINEL]) == []


def test_no_token_on_the_page(monkeypatch):
    from gan.ui import build_app

    monkeypatch.setenv("WANDB_API_KEY", WANDB_SENTINEL)
    monkeypatch.setenv("HF_TOKEN", HF_SENTINEL)
    demo = build_app()
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        for path in ("", "config", "gradio_api/info"):
            page = urllib.request.urlopen(url.rstrip("/") + "/" + path, timeout=30).read()
            assert WANDB_SENTINEL.encode() not in page and HF_SENTINEL.encode() not in page, path
            assert len(page) > 100
    finally:
        demo.close()
