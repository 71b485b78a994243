"""`python -m gan.publish`: the Hub upload with only HfApi (the network) faked; W&B for real, offline."""

import json
import shutil
from pathlib import Path

import pytest

from conftest import wandb_records
from gan import publish


class FakeHfApi:
    """Records what would go over the network; everything before that is real."""

    calls: list = []

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))

    def upload_folder(self, repo_id, folder_path, allow_patterns, commit_message):
        files = {p.name: p.read_bytes() for p in sorted(Path(folder_path).iterdir())
                 if p.name in allow_patterns}
        self.calls.append(("upload_folder", repo_id, files))
        return f"https://huggingface.co/{repo_id}/commit/abc"


def test_push_to_hub_uploads_the_export_with_its_card(tiny_export, tmp_path, monkeypatch, capsys):
    import huggingface_hub

    folder = shutil.copytree(tiny_export, tmp_path / "export")
    (folder / "README.md").unlink()
    FakeHfApi.calls = []
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHfApi)
    publish.main([str(folder), "--hub", "me/cgan-mnist", "--private"])
    (_, repo, kwargs), (_, repo2, files) = FakeHfApi.calls
    assert repo == repo2 == "me/cgan-mnist" and kwargs["private"] and kwargs["exist_ok"]
    assert set(files) == set(publish.EXPORT_FILES)
    readme = files["README.md"].decode()
    assert "| Frechet distance (judge features) | 123.400 |" in readme and "![samples](samples.png)" in readme
    assert "load: hf:me/cgan-mnist" in capsys.readouterr().out


def test_publish_refuses_a_folder_that_does_not_load(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(Exception, match="model.safetensors missing"):
        publish.main([str(tmp_path), "--hub", "me/x"])


def test_wandb_artifact_offline(tiny_export, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    folder = shutil.copytree(tiny_export, tmp_path / "export")
    publish.main([str(folder), "--wandb", "me/cgan-studio", "--alias", "best"])
    assert "wandb:me/cgan-studio/generator-mnist:latest" in capsys.readouterr().out
    (run_file,) = (tmp_path / "wandb").glob("offline-run-*/*.wandb")
    (artifact,) = [r.artifact for r in wandb_records(run_file) if r.WhichOneof("record_type") == "artifact"]
    assert (artifact.type, artifact.name) == ("model", "generator-mnist")
    assert sorted(artifact.aliases) == ["best", "latest"]
    metadata = json.loads(artifact.metadata)  # the card's facts, not its hparams
    assert metadata["metrics"] == {"val/fid": 123.4} and "hparams" not in metadata
