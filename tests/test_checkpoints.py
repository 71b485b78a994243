"""Every checkpoint source through `gan.load_generator`, and every bad source's clear error.

`hf:` runs real huggingface_hub in offline mode against a cache laid out as Hub downloads lay
it out; `wandb:` runs the real resolver with only `wandb.Api` (the network boundary) faked.
"""

import hashlib
import json
import os
import shutil
from collections import OrderedDict
from types import SimpleNamespace

import pytest
import torch

from gan import checkpoints, fetch, load_generator
from gan.checkpoints import CheckpointError, load_checkpoint
from gan.module import GANModule

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(autouse=True)
def fresh_remote_cache(monkeypatch):
    monkeypatch.setattr(fetch, "_SEEN", OrderedDict())


def same_outputs(a, b) -> bool:
    z, y = torch.randn(4, a.latent_dim), torch.arange(4)
    with torch.no_grad():
        return torch.equal(a(z, y), b(z, y))


def copy_export(src, dst):
    shutil.copytree(src, dst)
    return dst


# ---------------------------------------------------------------- local sources


def test_export_folder_loads_once_and_reloads_when_reexported(tiny_export, tmp_path):
    folder = copy_export(tiny_export, tmp_path / "export")
    first = load_generator(folder)
    assert load_generator(str(folder)) is first  # one cache
    assert load_checkpoint(folder).card["metrics"] == {"val/fid": 123.4}
    weights = folder / "model.safetensors"
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))
    assert load_generator(folder) is not first


def test_bundled_name(tiny_export, tmp_path, monkeypatch):
    copy_export(tiny_export, tmp_path / "mnist")
    monkeypatch.setattr(checkpoints, "BUNDLED_DIR", tmp_path)
    assert checkpoints.bundled_names() == ["mnist"]
    assert same_outputs(load_generator("mnist"), load_generator(tiny_export))


def _lightning_ckpt(path, arch="conv", legacy=False):
    """A checkpoint as Lightning writes it (on_save_checkpoint adds the generator's config, which
    round-one checkpoints lack); the EMA weights differ from the raw generator's."""
    torch.manual_seed(1)
    module = GANModule(arch, latent_dim=8, g_width=8, d_width=8, class_names=list("abcdefghij"))
    with torch.no_grad():
        for p in module.g_ema.parameters():
            p.add_(0.1 * torch.randn_like(p))
    path.parent.mkdir(parents=True, exist_ok=True)
    ckpt = {"hyper_parameters": dict(module.hparams), "state_dict": module.state_dict(),
            "epoch": 3, "global_step": 120}
    if not legacy:
        module.on_save_checkpoint(ckpt)
    torch.save(ckpt, path)
    return module


@pytest.mark.parametrize("arch, legacy", [("conv", False), ("resnet", False), ("conv", True)])
def test_lightning_ckpt_loads_the_ema_generator(tmp_path, arch, legacy):
    module = _lightning_ckpt(tmp_path / "last.ckpt", arch, legacy)
    ckpt = load_checkpoint(tmp_path / "last.ckpt")
    assert ckpt.generator.class_names == list("abcdefghij") and ckpt.card["steps"] == 120
    # checkpoints written now carry the EMA generator's standing statistics; round one's do not
    expected = module.g_ema if legacy else module.exported_generator()
    assert same_outputs(ckpt.generator, expected.eval())
    assert not same_outputs(ckpt.generator, module.generator.eval())
    assert legacy or not same_outputs(ckpt.generator, module.g_ema.eval())


def test_export_cli_gives_a_round_one_checkpoint_standing_statistics(tmp_path, capsys):
    from gan.export import main
    from gan.sampling import standing_stats

    module = _lightning_ckpt(tmp_path / "last.ckpt", legacy=True)
    main([str(tmp_path / "last.ckpt"), str(tmp_path / "as-is")])
    main([str(tmp_path / "last.ckpt"), str(tmp_path / "standing"), "--standing-stats", "--title", "T"])
    assert "exported" in capsys.readouterr().out
    assert same_outputs(load_generator(tmp_path / "as-is"), module.g_ema.eval())
    standing = load_generator(tmp_path / "standing")
    assert same_outputs(standing, standing_stats(module.g_ema))
    assert not same_outputs(standing, module.g_ema.eval())
    assert json.loads((tmp_path / "standing" / "card.json").read_text())["title"] == "T"


def test_half_export_is_half_the_file_and_loads_as_its_samples_show(tmp_path):
    from safetensors import safe_open

    from gan.export import HALF, export_generator, half_rounded, main, read_card
    from gan.nets import Generator

    torch.manual_seed(0)
    g = Generator("resnet", latent_dim=16, num_classes=10, img_shape=(1, 28, 28), width=16).eval()
    export_generator(g, tmp_path / "full", {"title": "t"})
    main([str(tmp_path / "full"), str(tmp_path / "half"), "--half"])
    weights = tmp_path / "half" / "model.safetensors"
    assert weights.stat().st_size < 0.55 * (tmp_path / "full" / "model.safetensors").stat().st_size
    with safe_open(weights, "pt") as f:
        dtypes = {k: f.get_tensor(k).dtype for k in f.keys()}
    params = {name for name, _ in g.named_parameters()}
    assert {dtypes[k] for k in params} == {torch.float16}
    assert torch.float16 not in {dtypes[k] for k in dtypes.keys() - params}  # batch-norm buffers
    loaded = load_generator(tmp_path / "half")
    assert {p.dtype for p in loaded.parameters()} == {torch.float32}
    assert same_outputs(loaded, half_rounded(g))  # what samples.png was drawn with
    z, y = torch.randn(8, 16), torch.arange(8)
    with torch.no_grad():
        assert 0 < (loaded(z, y) - g(z, y)).abs().max() < 1e-2
    assert read_card(tmp_path / "half")["weights"] == HALF
    main([str(tmp_path / "half"), str(tmp_path / "again")])  # a float32 re-export drops the note
    assert "weights" not in read_card(tmp_path / "again")
    with torch.no_grad():
        next(g.parameters()).view(-1)[0] = 1e6
    with pytest.raises(ValueError, match="beyond float16's range"):
        export_generator(g, tmp_path / "big", {}, half=True)
    assert not (tmp_path / "big").exists()


def test_run_folder_prefers_export_then_latest_ckpt(tiny_export, tmp_path):
    run = tmp_path / "run"
    _lightning_ckpt(run / "checkpoints" / "last.ckpt")
    assert checkpoints.resolve(run) == run / "checkpoints" / "last.ckpt"
    copy_export(tiny_export, run / "export")
    assert checkpoints.resolve(run) == run / "export"
    assert checkpoints.local_runs(tmp_path) == [str(run)]


# ---------------------------------------------------------------- hf:


def hub_cache(cache, repo_id, folder, files=None, ref="main"):
    """Lay out `folder` as `hf_hub_download` would: blobs, snapshots/<commit> symlinks, refs/<ref>."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    (repo / "blobs").mkdir()
    for f in sorted(folder.iterdir()):
        if files is not None and f.name not in files:
            continue
        blob = repo / "blobs" / hashlib.sha256(f.read_bytes()).hexdigest()
        shutil.copyfile(f, blob)
        (snapshot / f.name).symlink_to(os.path.relpath(blob, snapshot))
    (repo / "refs").mkdir()
    (repo / "refs" / ref).write_text(COMMIT)


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return tmp_path / "hub"


def test_hf_repo_from_the_offline_cache(tiny_export, offline_hub):
    hub_cache(offline_hub, "someone/cgan-mnist", tiny_export)
    for source in ("hf:someone/cgan-mnist", f"hf:someone/cgan-mnist@{COMMIT}"):
        ckpt = load_checkpoint(source)
        assert same_outputs(ckpt.generator, load_generator(tiny_export))
        assert ckpt.card["title"] == "tiny test generator"


def test_hf_revision_by_branch_name(tiny_export, offline_hub):
    hub_cache(offline_hub, "someone/cgan-mnist", tiny_export, ref="v1")
    assert same_outputs(load_generator("hf:someone/cgan-mnist@v1"), load_generator(tiny_export))
    with pytest.raises(CheckpointError, match="hf:someone/cgan-mnist: .*no network"):
        load_generator("hf:someone/cgan-mnist")  # no refs/main in the cache


def test_hf_missing_repo_or_no_network(offline_hub):
    with pytest.raises(CheckpointError, match=r"^hf:nobody/nothing: not reachable and not in the local cache"):
        load_generator("hf:nobody/nothing")


def test_hf_missing_weights_file(tiny_export, offline_hub):
    hub_cache(offline_hub, "someone/half", tiny_export, files={"config.json", "card.json"})
    with pytest.raises(CheckpointError, match=r"^hf:someone/half: .*model.safetensors missing"):
        load_generator("hf:someone/half")


# ---------------------------------------------------------------- wandb:


class FakeArtifact:
    def __init__(self, folder, name):
        self.folder, self.name = folder, name
        entries = {p.name: SimpleNamespace(size=p.stat().st_size) for p in folder.iterdir()}
        self.manifest = SimpleNamespace(entries=entries)  # what W&B's manifest says about sizes

    def download(self, root):
        shutil.copytree(self.folder, root, dirs_exist_ok=True)
        return root


def fake_wandb_api(monkeypatch, artifacts: dict, error: Exception | None = None):
    """Replace only `wandb.Api`: refs map to (folder, resolved name) like W&B's artifact store."""
    import wandb

    class Api:
        calls = 0

        def __init__(self, **kwargs):
            pass

        def artifact(self, name, type=None):
            Api.calls += 1
            if error is not None:
                raise error
            if name not in artifacts:
                raise wandb.errors.CommError(f"artifact '{name}' not found in project")
            return FakeArtifact(*artifacts[name])

    monkeypatch.setattr(wandb, "Api", Api)
    return Api


def test_wandb_artifact(tiny_export, tmp_path, monkeypatch):
    monkeypatch.setattr(fetch, "CACHE_DIR", tmp_path / "cache")
    api = fake_wandb_api(monkeypatch, {"me/cgan/generator-abc:latest": (tiny_export, "generator-abc:v3")})
    ckpt = load_checkpoint("wandb:me/cgan/generator-abc:latest")
    assert ckpt.path == tmp_path / "cache" / "wandb" / "me" / "cgan" / "generator-abc:v3"
    assert same_outputs(ckpt.generator, load_generator(tiny_export))
    assert load_generator("wandb:me/cgan/generator-abc:latest") is ckpt.generator and api.calls == 1
    load_checkpoint("wandb:me/cgan/generator-abc:latest", refresh=True)  # asked < 1 min ago: not again
    assert api.calls == 1
    monkeypatch.setattr(fetch, "REASK_S", 0.0)
    load_checkpoint("wandb:me/cgan/generator-abc:latest", refresh=True)  # an explicit load re-asks
    assert api.calls == 2


def test_wandb_missing_artifact_no_network_and_bad_reference(monkeypatch):
    fake_wandb_api(monkeypatch, {})
    with pytest.raises(CheckpointError, match=r"^wandb:me/cgan/nope:latest: artifact 'me/cgan/nope:latest' not found"):
        load_generator("wandb:me/cgan/nope:latest")
    with pytest.raises(CheckpointError, match=r"^wandb:me/cgan: expected wandb:<entity>/<project>/<artifact>:<alias>"):
        load_generator("wandb:me/cgan")
    fake_wandb_api(monkeypatch, {}, error=ConnectionError("Max retries exceeded with url: api.wandb.ai"))
    monkeypatch.setattr(fetch, "_SEEN", OrderedDict())
    with pytest.raises(CheckpointError, match=r"^wandb:me/cgan/g:v1: not reachable .*no network"):
        load_generator("wandb:me/cgan/g:v1")


# ---------------------------------------------------------------- bad local sources


def test_missing_path(tmp_path):
    with pytest.raises(CheckpointError, match=r"nothing: no such file or folder, and not a bundled name"):
        load_generator(tmp_path / "nothing")
    with pytest.raises(CheckpointError, match=r"no export folder .*run folder or .ckpt here"):
        load_generator(tmp_path)


def test_wrong_architecture(tiny_export, tmp_path):
    folder = copy_export(tiny_export, tmp_path / "wide")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "width": 16}))
    with pytest.raises(CheckpointError, match=r"wide: cannot load .*wrong architecture: model.safetensors "
                                              r"does not fit config.json \(0 tensor\(s\) missing, 0 unexpected, "
                                              r"\d+ of another shape\)"):
        load_generator(folder)
    (folder / "config.json").write_text(json.dumps({"_class_name": "UNet2DModel", "sample_size": 32}))
    with pytest.raises(CheckpointError, match=r"config.json has 2 key\(s\) a generator does not take"):
        load_generator(folder)
    torch.save({"model": {"w": torch.zeros(2)}}, tmp_path / "other.ckpt")
    with pytest.raises(CheckpointError, match=r"other.ckpt: .*not a GANModule checkpoint"):
        load_generator(tmp_path / "other.ckpt")


def test_corrupt_weights(tiny_export, tmp_path):
    folder = copy_export(tiny_export, tmp_path / "corrupt")
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:200])
    with pytest.raises(CheckpointError, match=r"corrupt: cannot load a generator .*not a complete safetensors"):
        load_generator(folder)


class Payload:
    """Any class outside torch's weights-only allow-list: unpickling it could run code."""


def test_pickled_objects_are_refused(tmp_path):
    torch.save({"hyper_parameters": Payload(), "state_dict": {}}, tmp_path / "evil.ckpt")
    with pytest.raises(CheckpointError, match=r"evil.ckpt: .*not a weights-only checkpoint"):
        load_generator(tmp_path / "evil.ckpt")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(CheckpointError, match=r"must be a Lightning .ckpt"):
        load_generator(tmp_path / "notes.txt")
