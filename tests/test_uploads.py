"""An uploaded zip: checked with the upload caps before a run starts, kept in the run folder."""

import zipfile
from dataclasses import replace

import pytest
from hydra.utils import instantiate

from conftest import compose_cfg
from gan import uploads
from gan.datasets import DataError
from gan.limits import MB, UPLOAD_LIMITS
from gan.run_params import ParamError, RunParams
from gan.runs import RunError, Supervisor
from gan.uploads import check_upload, store_upload, upload_overrides


def zip_of(folder, target):
    with zipfile.ZipFile(target, "w") as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, p.relative_to(folder).as_posix())
    return target


def test_the_issue_caps():
    assert (UPLOAD_LIMITS.max_zip_bytes, UPLOAD_LIMITS.max_images, UPLOAD_LIMITS.max_classes) == \
        (100 * MB, 60_000, 100)


def test_a_good_zip_is_checked_stored_and_trained_from_the_run_folder(image_folder, tmp_path):
    archive = zip_of(image_folder, tmp_path / "fruit.zip")
    layout = check_upload(archive)
    assert layout.class_names == ("apple", "banana", "cherry") and len(layout.items) == 19  # broken one too
    run = tmp_path / "runs" / "20260101-000000-abcd"
    run.mkdir(parents=True)
    stored = store_upload(archive, run)
    assert stored == run / "upload.zip" and stored.read_bytes() == archive.read_bytes()
    assert [p.name for p in run.iterdir()] == ["upload.zip"]  # no temp file left
    cfg = compose_cfg(tmp_path, upload_overrides(run, 16, 1))
    dm = instantiate(cfg.data, _convert_="all")
    assert dm.class_names == ["apple", "banana", "cherry"] and dm.img_shape == (1, 16, 16)
    assert cfg.data.limits == "upload" and list((run / "data-cache").glob("*.safetensors"))


@pytest.mark.parametrize("name,content,words", [
    ("pictures.tar", b"x", "upload a .zip file"),
    ("broken.zip", b"PK junk", "broken.zip: not a readable .zip file"),
])
def test_bad_uploads_name_the_file_not_our_folders(tmp_path, name, content, words):
    path = tmp_path / "gradio-cache" / name
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(DataError, match=words) as e:
        check_upload(path)
    assert "gradio-cache" not in str(e.value)


def test_the_upload_caps_apply(image_folder, tmp_path, monkeypatch):
    archive = zip_of(image_folder, tmp_path / "fruit.zip")
    monkeypatch.setattr(uploads, "UPLOAD_LIMITS", replace(UPLOAD_LIMITS, max_classes=2))
    with pytest.raises(DataError, match="fruit.zip: 3 classes, over the limit of 2"):
        check_upload(archive)
    monkeypatch.setattr(uploads, "UPLOAD_LIMITS", replace(UPLOAD_LIMITS, max_zip_bytes=1000))
    with pytest.raises(DataError, match=r"fruit.zip: 0.00\d+ MB, over the 0.000954 MB limit for a zip"):
        check_upload(archive)


def test_a_runs_folder_with_quotes_is_refused(tmp_path):
    with pytest.raises(DataError, match="quotes"):
        upload_overrides(tmp_path / "it's", 32, 3)


@pytest.mark.parametrize("training", ["off", "on"])
def test_public_mode_an_upload_starts_nothing_where_training_is_off_or_the_zip_is_bad(
        image_folder, tmp_path, monkeypatch, training):
    """Public mode: with training off, even a good zip starts nothing; with it on, a zip failing
    the upload check (here: a member named ../) is refused and leaves no run folder, no copy."""
    monkeypatch.setenv("GAN_PUBLIC", "1")
    if training == "on":
        monkeypatch.setenv("GAN_SPACE_TRAINING", "1")
    else:
        monkeypatch.delenv("GAN_SPACE_TRAINING", raising=False)
    runs = tmp_path / "runs"
    runs.mkdir()
    good = zip_of(image_folder, tmp_path / "fruit.zip")
    bad = tmp_path / "evil.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("a/1.png", good.read_bytes()[:10])
        z.writestr("../b/1.png", b"x")
    params = RunParams(dataset="upload", upload=str(good if training == "off" else bad), epochs=1,
                       limit_batches=5)
    with pytest.raises((RunError, ParamError), match="training is off" if training == "off"
                       else "upload: evil.zip: refused, member '../b/1.png' points outside"):
        Supervisor(runs).start(params, "visitor-token")
    assert list(runs.iterdir()) == []
