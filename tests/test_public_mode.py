"""Public mode (`GAN_PUBLIC=1`), tried as a hostile visitor would: every case asserts the
refusal, its message, and that nothing was read, written, kept or started.

Local files are watched with a Python audit hook (every `open`). Remote references go to a
stand-in Hub (tests/hub_stand_in.py, a real `http.server`) that the app, launched as
`python app.py` with `HF_ENDPOINT` at it and `HF_TOKEN` set, really talks to; it records every
request's Authorization header.
"""

import json
import os
import shutil
import subprocess
import sys
import threading
from collections import OrderedDict

import pytest
import torch
from safetensors.torch import save_file

from conftest import ROOT
from gan import checkpoints, fetch
from gan.checkpoints import CheckpointError, load_checkpoint
from gan.export import card_markdown
from gan.limits import PUBLIC_RUN_LIMITS
from gan.run_folders import RunError, stamp_owner
from gan.run_params import RunParams
from gan.runs import Supervisor, child_env
from gan.status import process_start_time, write_json_atomic
from hub_stand_in import StandInHub

OWNER, STRANGER = "owner-" + "o" * 30, "stranger-" + "s" * 30
SENTINEL = "hf_sentinelOwnerTokenThatMustNeverLeave"
_recording: list[str] | None = None


def _audit(event, args):
    if _recording is not None and event == "open" and isinstance(args[0], str) \
            and not args[0].endswith((".py", ".pyc", ".so")):
        _recording.append(args[0])


sys.addaudithook(_audit)


@pytest.fixture
def opened():
    """Every file opened while the test body runs (module imports aside)."""
    global _recording
    _recording = []
    yield _recording
    _recording = None


@pytest.fixture(autouse=True)
def public(monkeypatch, tmp_path):
    """Public mode with a fresh runs folder and nothing fetched yet; returns the runs folder."""
    monkeypatch.setenv("GAN_PUBLIC", "1")
    monkeypatch.delenv("SPACE_ID", raising=False)
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setattr(fetch, "_SEEN", OrderedDict())
    (tmp_path / "runs").mkdir()
    return tmp_path / "runs"


def message(source: str, **kwargs) -> str:
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(source, **kwargs)
    return str(err.value)


# ---------------------------------------------------------------- local paths


NOT_HERE = ["/etc/shadow", "/etc/doesnotexist", "../../etc/passwd", "~/.ssh/id_rsa",
            "checkpoints/mnist", "./checkpoints/mnist/", "/proc/self/environ", "runs",
            "file:///etc/passwd", "mnist/../../../etc/passwd", "C:\\Windows\\win.ini", "<export>"]


@pytest.mark.parametrize("source", NOT_HERE)
def test_a_local_path_is_refused_exactly_like_a_missing_one(source, tiny_export, opened):
    source = str(tiny_export) if source == "<export>" else source  # an existing export folder
    missing = message("/no/such/folder").split(": ", 1)[1]
    assert message(source, owner=OWNER) == f"{source}: {missing}"
    assert "bundled name" in missing and "run:<id>" in missing
    assert opened == []  # not even opened to find out


# ---------------------------------------------------------------- remote references


@pytest.mark.parametrize("source,words", [
    ("hf:", "not a Hub reference"), ("hf:../etc", "not a Hub reference"),
    ("hf:a/b/c", "not a Hub reference"), ("hf:a/b@../../x", "not a Hub reference"),
    ("hf:-a/b", "not a Hub reference"), ("hf:a/" + "b" * 300, "not a Hub reference"),
    ("wandb:me/proj", "expected wandb:<entity>"), ("wandb:../x/y:z", "expected wandb:<entity>"),
    ("wandb:me/proj/generator:latest", "W&B needs an API key"),
])
def test_bad_or_untrusted_remote_references_are_refused_before_any_request(source, words, monkeypatch):
    import wandb

    monkeypatch.setenv("WANDB_API_KEY", SENTINEL)
    monkeypatch.setattr(wandb, "Api", lambda **kw: pytest.fail("W&B was asked"))
    text = message(source, owner=OWNER)
    assert text.startswith(source[:200]) and words in text and SENTINEL not in text


def test_a_3_mb_source_is_not_echoed():
    text = message("hf:" + "x" * 3_000_000)
    assert len(text) < 600 and "…" in text


def test_generate_never_fetches_what_was_not_loaded(monkeypatch):
    monkeypatch.setattr(fetch, "_fetch", lambda text: pytest.fail("a fetch from /generate"))
    assert "not loaded yet: load it first" in message("hf:someone/model", fetch=False)
    assert "not loaded yet: load it first" in message("wandb:me/p/g:latest", fetch=False)


# ---------------------------------------------------------------- runs of others


def fake_run(root, run_id: str, owner: str, pid: int | None = None, export=None):
    folder = root / run_id
    folder.mkdir()
    stamp_owner(folder, owner)
    live = pid is not None
    write_json_atomic(folder / "process.json", {"pid": pid or 2**22 + 7,
                                                "pid_start": process_start_time(pid) if live else 1})
    write_json_atomic(folder / "status.json", {"state": "running" if live else "finished",
                                               "pid": pid, "pid_start": process_start_time(pid) if live else 1})
    if export is not None:
        shutil.copytree(export, folder / "export")
    write_json_atomic(folder / "params.json", RunParams().to_dict())
    return folder


@pytest.fixture
def sleeper():
    """A harmless live process in its own group, standing in for a trainer."""
    proc = subprocess.Popen(["sleep", "120"], start_new_session=True)
    yield proc
    proc.kill()
    proc.wait()


THEIRS, NOBODYS = "20260101-000000-0a0a", "20260101-000000-0b0b"


@pytest.mark.parametrize("call", ["status", "stop", "run source"])
def test_a_strangers_run_is_exactly_a_run_that_does_not_exist(call, public, sleeper, tiny_export):
    folder = fake_run(public, THEIRS, OWNER, sleeper.pid, export=tiny_export)
    sup = Supervisor(public, limits=PUBLIC_RUN_LIMITS)
    before = sorted(p.name for p in folder.iterdir())

    def refusal(run_id):
        if call == "run source":
            return message(f"run:{run_id}", owner=STRANGER).replace(run_id, "<id>")
        with pytest.raises(RunError) as err:
            getattr(sup, call)(run_id, STRANGER)
        return str(err.value).replace(run_id, "<id>")

    assert refusal(THEIRS) == refusal(NOBODYS) and "no run '<id>'" in refusal(THEIRS)
    assert sorted(p.name for p in folder.iterdir()) == before  # no STOP file, nothing written
    assert sleeper.poll() is None  # the trainer stand-in was not signalled


def test_list_shows_only_the_callers_runs_and_the_owner_can_stop(public, sleeper):
    fake_run(public, THEIRS, OWNER, sleeper.pid)
    sup = Supervisor(public, limits=PUBLIC_RUN_LIMITS)
    assert sup.list(STRANGER) == [] and sup.list(None) == []
    assert [s["id"] for s in sup.list(OWNER)] == [THEIRS]
    assert sup.stop(THEIRS, OWNER, grace_s=0.2, term_s=5)["state"] == "stopping"
    sup.join_stop(THEIRS, timeout=10)
    assert sleeper.wait(timeout=10) is not None and sup.status(THEIRS, OWNER)["state"] == "stopped"


def test_a_busy_slot_does_not_name_a_strangers_run(public, sleeper, monkeypatch):
    monkeypatch.setenv("GAN_SPACE_TRAINING", "1")
    fake_run(public, THEIRS, OWNER, sleeper.pid)
    sup = Supervisor(public)
    with pytest.raises(RunError) as err:
        sup.start(RunParams(epochs=1, limit_batches=5), STRANGER)
    assert "already running (not yours)" in str(err.value) and THEIRS not in str(err.value)
    assert sorted(p.name for p in public.iterdir()) == [THEIRS] and sup.procs == {}


# ---------------------------------------------------------------- hostile generator files


def own_export(public, tiny_export, config=None, weights=None, card=None) -> str:
    """A run of OWNER's whose export holds the given config.json / weights / card.json."""
    run_id = f"20260102-000000-{len(list(public.iterdir())):04x}"
    folder = fake_run(public, run_id, OWNER, export=tiny_export) / "export"
    if config is not None:
        text = config if isinstance(config, (str, bytes)) else json.dumps(config)
        (folder / "config.json").write_bytes(text.encode() if isinstance(text, str) else text)
    if weights is not None:
        weights(folder / "model.safetensors")
    if card is not None:
        (folder / "card.json").write_text(json.dumps(card))
    return f"run:{run_id}"


def tiny_config(**changes):
    base = {"arch": "conv", "latent_dim": 8, "num_classes": 10, "img_shape": [1, 28, 28],
            "class_names": [str(i) for i in range(10)], "width": 8}
    return {**base, **changes}


HOSTILE_CONFIGS = [
    (tiny_config(latent_dim=120000), "latent_dim must be a whole number from 1 to 1024"),
    (tiny_config(img_shape=[1, 100000, 100000]), "image side must be a whole number from 8 to 256"),
    (tiny_config(num_classes=10**9), "num_classes must be a whole number from 1 to 1000"),
    (tiny_config(img_shape=[2, 28, 28]), "1 or 3 channels"),
    (tiny_config(img_shape=[1, 4, 4]), "image side must be a whole number from 8"),
    (tiny_config(width=100000), "width must be a whole number from 1 to 512"),
    (tiny_config(latent_dim=1024, img_shape=[3, 256, 256], width=512, class_names=None),
     "M parameters; at most 50 M"),
    (tiny_config(latent_dim="64"), "latent_dim must be a whole number"),
    (tiny_config(latent_dim=8.0), "latent_dim must be a whole number"),
    (tiny_config(latent_dim=True), "latent_dim must be a whole number"),
    (tiny_config(img_shape=[1, 28]), "img_shape must be [channels, height, width]"),
    (tiny_config(img_shape=[[1], [28], [28]]), "channel count must be a whole number"),
    (tiny_config(class_names=["a", "b", "c"]), "cannot build"),
    (tiny_config(class_names=list(range(10))), "class_names must be a list of names"),
    (tiny_config(class_names=[SENTINEL * 3] * 10), "class_names must be a list of names of 1-64"),
    (tiny_config(arch="evil_sentinel"), "cannot build (unknown arch"),
    (tiny_config(arch={"$ne": SENTINEL}), "arch must be the name of a generator"),
    (tiny_config(_target_=f"os.system('{SENTINEL}')"), "1 key(s) a generator does not take"),
    (tiny_config(img_shape=[1, 30, 30]), "does not produce images of its img_shape"),
    ([SENTINEL], "config.json is not a JSON object"),
    (f"{{'{SENTINEL}': ", "config.json is not valid JSON"),
    (json.dumps(tiny_config(class_names=[SENTINEL] * 10)) + " " * 70_000, "larger than 64 KB"),
]


@pytest.mark.parametrize("config,words", HOSTILE_CONFIGS, ids=range(len(HOSTILE_CONFIGS)))
def test_a_hostile_config_is_refused_before_anything_is_allocated(config, words, public, tiny_export,
                                                                  opened):
    source = own_export(public, tiny_export, config=config)
    cached = checkpoints._load.cache_info().currsize
    opened.clear()
    text = message(source, owner=OWNER)
    assert text.startswith(f"{source}: cannot load a generator (") and words in text
    assert SENTINEL not in text and "evil_sentinel" not in text and str(public) not in text
    assert not any(p.endswith("model.safetensors") for p in opened)  # the weights stay unread
    assert checkpoints._load.cache_info().currsize == cached


def header_claims(n: int):
    return lambda path: path.write_bytes(n.to_bytes(8, "little") + b"{}")


def state_of(**changes):
    """A safetensors writer for the tiny generator's state with some tensors changed."""
    def write(path):
        from gan.nets import Generator

        state = Generator("conv", 8, 10, (1, 28, 28), width=8).state_dict()
        state.update(changes)
        save_file({k: v for k, v in state.items() if v is not None}, path)
    return write


HOSTILE_WEIGHTS = [
    (header_claims(2**40), "not a complete safetensors file"),
    (lambda p: p.write_bytes((20).to_bytes(8, "little") + SENTINEL.encode()[:20]), "not a complete"),
    (lambda p: p.write_bytes(p.read_bytes()[:300]), "not a complete safetensors file"),
    (state_of(**{SENTINEL: torch.zeros(3)}), "0 tensor(s) missing, 1 unexpected, 0 of another shape"),
    (state_of(**{"body.fc.weight": torch.zeros(5, 5)}), "0 tensor(s) missing, 0 unexpected, 1 of another"),
    (state_of(**{"body.fc.bias": None}), "1 tensor(s) missing"),
    (state_of(**{"body.out.bias": torch.full((1,), float("nan"))}), "produces NaN or infinite values"),
    (lambda p: p.unlink(), "model.safetensors missing"),
]


@pytest.mark.parametrize("weights,words", HOSTILE_WEIGHTS, ids=range(len(HOSTILE_WEIGHTS)))
def test_hostile_weights_are_refused_and_nothing_stays_loaded(weights, words, public, tiny_export):
    source = own_export(public, tiny_export, weights=weights)
    cached = checkpoints._load.cache_info().currsize
    text = message(source, owner=OWNER)
    assert text.startswith(f"{source}: cannot load a generator (") and words in text
    assert SENTINEL not in text and "torch.Size" not in text and "body." not in text
    assert checkpoints._load.cache_info().currsize == cached


def test_a_model_card_renders_without_html_images_or_links(public, tiny_export):
    from markdown_it import MarkdownIt

    card = {"title": "<img src=x onerror=alert(1)>", "command": "![](http://evil.example/pixel.png)",
            "metrics": {"<script>x</script>": 1.0}, "evaluation": "[click](http://evil.example)"}
    ckpt = load_checkpoint(own_export(public, tiny_export, card=card), owner=OWNER)
    html = MarkdownIt("commonmark").enable("table").render(
        card_markdown(ckpt.card, ckpt.source, ckpt.generator))  # raw HTML allowed, as in the page
    assert "<img" not in html and "<script" not in html and "<a " not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<li>" in html  # shown as text


def test_an_oversized_model_card_is_ignored(public, tiny_export):
    ckpt = load_checkpoint(own_export(public, tiny_export, card={"title": "x" * 300_000}), owner=OWNER)
    assert ckpt.card == {}


# ---------------------------------------------------------------- run parameters


@pytest.mark.parametrize("fields,words", [
    ({"overrides": "model.g_width=256"}, "model.g_width must be between 4 and 64"),
    ({"overrides": "model.d_width=65"}, "model.d_width must be between 4 and 64"),
    ({"overrides": "model.latent_dim=512"}, "model.latent_dim must be between 2 and 128"),
    ({"overrides": "ckpt_path=20260101-000000-0a0a/checkpoints/last.ckpt"}, "'ckpt_path' is not allowed here"),
    ({"overrides": "model.beta1=0.5\n" * 21}, "at most 20 lines and 4 KB"),
    ({"overrides": "#" * 5000}, "at most 20 lines and 4 KB"),
    ({"epochs": 10}, "Epochs must be between 1 and 3"),
    ({"batch_size": 4096}, "Batch size must be between 1 and 128"),
    ({"limit_batches": 0}, "must be between 1 and 200 here"),
])
def test_public_run_limits(fields, words, public, monkeypatch):
    monkeypatch.setenv("GAN_SPACE_TRAINING", "1")
    sup = Supervisor(public)
    with pytest.raises(Exception, match=words.replace("(", r"\(")):
        sup.start({**RunParams(epochs=1, limit_batches=5).to_dict(), **fields}, OWNER)
    assert list(public.iterdir()) == [] and sup.procs == {}


def test_training_is_off_unless_the_owner_allows_it(public, monkeypatch):
    monkeypatch.delenv("GAN_SPACE_TRAINING", raising=False)
    with pytest.raises(RunError, match="training is off"):
        Supervisor(public).start(RunParams(epochs=1, limit_batches=5), OWNER)
    assert list(public.iterdir()) == []


def test_a_visitors_trainer_gets_none_of_the_apps_secrets(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", SENTINEL)
    monkeypatch.setenv("WANDB_API_KEY", SENTINEL)
    monkeypatch.setenv("WANDB_MODE", "online")
    env = child_env()
    assert SENTINEL not in env.values() and env["WANDB_MODE"] == "offline"
    assert "PATH" in env and "OMP_NUM_THREADS" in env


# ---------------------------------------------------------------- a real app and a stand-in Hub


def hostile_folder(tmp, tiny_export, **config_changes):
    folder = tmp / f"hostile{len(list(tmp.iterdir()))}"
    shutil.copytree(tiny_export, folder)
    (folder / "config.json").write_text(json.dumps(tiny_config(**config_changes)))
    return folder


@pytest.fixture(scope="module")
def hub_app(tmp_path_factory, tiny_export):
    """`python app.py` in public mode, its Hub the stand-in, the owner's HF_TOKEN set."""
    from gradio_client import Client

    sys.path.insert(0, str(ROOT))
    from benchmarks.app_process import running_app

    tmp = tmp_path_factory.mktemp("hub-app")
    with StandInHub(owner_token=SENTINEL) as hub:
        hub.add("someone/public", tiny_export)
        hub.add("someone/second", tiny_export)
        hub.add("someone/private", tiny_export, private=True)
        hub.add("owner-org/private", tiny_export, private=True)
        hub.add("someone/huge", tiny_export, claimed={"model.safetensors": 2 * 2**20})
        hub.add("someone/slow", tiny_export, slow_s=12)
        hub.add("someone/noweights", files={"config.json": b"{}"})
        hub.add("someone/hostile", hostile_folder(tmp, tiny_export, latent_dim=120000))
        env = {"GAN_PUBLIC": "1", "HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "0", "HF_TOKEN": SENTINEL,
               "HF_HOME": str(tmp / "hf"), "GAN_TRUSTED_SOURCES": "hf:owner-org/*",
               "GAN_MAX_DOWNLOAD_MB": "1", "GAN_FETCH_TIMEOUT": "5", "GAN_RUNS_DIR": str(tmp / "runs"),
               "GRADIO_TEMP_DIR": str(tmp / "gradio"), "WANDB_API_KEY": SENTINEL}
        with running_app(env) as url:
            yield hub, (lambda: Client(url, verbose=False)), tmp


def load(client, source):
    return client.predict(source=source, api_name="/load_checkpoint")


def refusal(client, source, api_name="/load_checkpoint") -> str:
    args = {"source": source} if api_name == "/load_checkpoint" else {"label": "1", "seed": 0,
                                                                      "checkpoint": source}
    with pytest.raises(Exception) as err:
        client.predict(**args, api_name=api_name)
    assert SENTINEL not in str(err.value)
    return str(err.value)


def weight_requests(hub, repo_id):
    return [r for r in hub.seen(repo_id) if r.path.endswith("model.safetensors")]


def test_hub_a_visitors_reference_goes_without_the_owners_token(hub_app):
    hub, client, _ = hub_app
    assert "tiny test generator" in load(client(), "hf:someone/public")[2]
    assert hub.seen("someone/public") and all(r.authorization is None for r in hub.seen("someone/public"))


def test_hub_a_trusted_reference_goes_with_the_owners_token(hub_app):
    hub, client, _ = hub_app
    assert "tiny test generator" in load(client(), "hf:owner-org/private")[2]
    assert weight_requests(hub, "owner-org/private")
    assert all(r.authorization == f"Bearer {SENTINEL}" for r in hub.seen("owner-org/private"))


def test_hub_a_private_repo_reads_like_a_missing_one(hub_app):
    hub, client, _ = hub_app
    private = refusal(client(), "hf:someone/private").replace("someone/private", "<repo>")
    assert private == refusal(client(), "hf:someone/missing").replace("someone/missing", "<repo>")
    assert "not found on the Hugging Face Hub (or it is private or gated)" in private
    assert all(r.authorization is None for r in hub.seen("someone/private"))
    assert not weight_requests(hub, "someone/private")


def test_hub_an_oversized_repo_is_refused_before_its_weights_are_requested(hub_app):
    hub, client, tmp = hub_app
    assert "2 MB to download; at most 1 MB here (GAN_MAX_DOWNLOAD_MB)" in refusal(client(), "hf:someone/huge")
    assert hub.seen("someone/huge") and not weight_requests(hub, "someone/huge")
    assert not list((tmp / "hf").rglob("models--someone--huge/blobs/*"))  # nothing written


def test_hub_a_repo_without_weights_is_refused_before_any_download(hub_app):
    hub, client, _ = hub_app
    assert "not an export folder" in refusal(client(), "hf:someone/noweights")
    assert [r.path for r in hub.seen("someone/noweights") if "/resolve/" in r.path] == []


def test_hub_a_hostile_config_is_refused_before_its_weights_are_requested(hub_app):
    hub, client, _ = hub_app
    assert "latent_dim must be a whole number from 1 to 1024" in refusal(client(), "hf:someone/hostile")
    assert not weight_requests(hub, "someone/hostile")


def test_hub_a_slow_repo_times_out_and_generate_is_not_held_up(hub_app):
    hub, client, _ = hub_app
    done = []
    slow = threading.Thread(target=lambda: done.append(refusal(client(), "hf:someone/slow")))
    slow.start()
    while not hub.seen("someone/slow"):
        threading.Event().wait(0.05)
    assert client().predict(label="1", seed=0, api_name="/generate")  # while the fetch hangs
    assert slow.is_alive() and not done
    slow.join(60)
    assert "no answer within 5 s (GAN_FETCH_TIMEOUT)" in done[0]


def test_a_clients_own_timeout_reads_like_the_fetch_limit(monkeypatch):
    # the Hub client times out at the same limit as the fetch pool; whichever fires first, one message
    import httpx
    import requests

    monkeypatch.setenv("GAN_FETCH_TIMEOUT", "5")
    for e in (httpx.ReadTimeout("read"), requests.exceptions.ReadTimeout("read"), TimeoutError()):
        assert fetch.why(e) == "no answer within 5 s (GAN_FETCH_TIMEOUT); try again in a minute"
    assert fetch.why(ConnectionError("down")).startswith("not reachable")


def test_hub_a_reference_is_asked_again_at_most_once_a_minute(hub_app):
    hub, client, _ = hub_app
    load(client(), "hf:someone/second")
    asked = len(hub.seen("someone/second"))
    load(client(), "hf:someone/second")
    assert len(hub.seen("someone/second")) == asked
    again = refusal(client(), "hf:someone/missing2"), refusal(client(), "hf:someone/missing2")
    assert "try again later" in again[1] and len(hub.seen("someone/missing2")) == 1


def test_hub_generate_and_interpolate_never_fetch(hub_app):
    hub, client, _ = hub_app
    c = client()
    assert "not loaded yet: load it first" in refusal(c, "hf:someone/unloaded", "/generate")
    with pytest.raises(Exception, match="not loaded yet: load it first"):
        c.predict(label="1", seed=0, label_b="2", seed_b=1, checkpoint="hf:someone/unloaded2",
                  api_name="/interpolate")
    assert hub.seen("someone/unloaded") == [] and hub.seen("someone/unloaded2") == []


def test_hub_local_paths_are_refused_through_the_app(hub_app, tiny_export):
    _, client, _ = hub_app
    c = client()
    texts = [refusal(c, s).replace(s, "<source>") for s in ("/etc/shadow", "/etc/doesnotexist",
                                                             str(tiny_export))]
    assert len(set(texts)) == 1 and "no such checkpoint here" in texts[0]
    assert "tiny test generator" not in texts[0] and os.fspath(tiny_export) not in texts[0]
