"""Every option of every config group composes and instantiates."""

import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from conftest import CONFIGS, compose_cfg
from gan.datasets import REGISTRY
from gan.run_params import CHOICES, UPLOAD
from gan.train import build_loggers

GROUPS = {g.name: sorted(p.stem for p in g.glob("*.yaml")) for g in CONFIGS.iterdir() if g.is_dir()}
CASES = [(g, o) for g, opts in GROUPS.items() for o in opts]


def test_registry_drives_the_data_choices():
    """One registry entry + one config file per dataset, and nothing else lists datasets."""
    assert GROUPS["data"] == sorted(REGISTRY)
    for name in REGISTRY:
        assert OmegaConf.load(CONFIGS / "data" / f"{name}.yaml").dataset == name
    # the Train tab: datasets with files on the server, and uploads; never a server path
    assert set(CHOICES["dataset"]) == {n for n, s in REGISTRY.items() if s.folder} | {UPLOAD}
    assert {"cifar10", "cifar10_64", "image_folder"} <= set(GROUPS["experiment"])


def test_every_group_has_options():
    assert {"data", "model", "trainer", "logger", "callbacks", "experiment"} <= set(GROUPS)
    assert {"mnist_mlp", "mnist_conv", "fashion_conv"} <= set(GROUPS["experiment"])
    assert {"cpu", "gpu", "ddp"} <= set(GROUPS["trainer"]) and {"none", "csv", "wandb"} <= set(GROUPS["logger"])


def _model(cfg, img_shape=(1, 28, 28), num_classes=10):
    return instantiate(cfg.model, _convert_="all", num_classes=num_classes, img_shape=list(img_shape),
                       class_names=[str(i) for i in range(num_classes)])


@pytest.mark.parametrize("group,option", CASES)
def test_group_option_composes_and_instantiates(tmp_path, group, option, image_folder):
    overrides = [f"{group}={option}", f"++data.path={image_folder}", f"++data.cache_dir={tmp_path}"]
    if group == "trainer" and option != "cpu":  # no GPU here: same config, CPU devices
        overrides += ["trainer.accelerator=cpu", "trainer.devices=2" if option == "ddp" else "trainer.devices=1"]
    cfg = compose_cfg(tmp_path, overrides)
    if cfg.data.dataset != "image_folder":
        del cfg.data.path, cfg.data.cache_dir
    dm = instantiate(cfg.data, _convert_="all")
    assert dm.batch_size == cfg.data.batch_size
    model = _model(cfg, dm.img_shape, len(dm.class_names))
    assert model.hparams.loss in ("lsgan", "bce", "hinge")
    trainer = instantiate(cfg.trainer, _convert_="all", logger=build_loggers(cfg) or False,
                          callbacks=[instantiate(c, _convert_="all") for c in (cfg.callbacks or {}).values()])
    assert trainer.max_epochs == cfg.trainer.max_epochs


def test_mnist_mlp_is_the_assignment_baseline(tmp_path):
    cfg = compose_cfg(tmp_path, ["experiment=mnist_mlp"])
    model = _model(cfg)
    hp = model.hparams
    assert (hp.arch, hp.loss, hp.lr_g, hp.lr_d, hp.beta1, hp.beta2) == ("mlp", "lsgan", 2e-4, 2e-4, 0.5, 0.999)
    assert cfg.data.batch_size == 64 and cfg.trainer.max_epochs == 20
    assert model.exported_generator() is model.g_ema  # the trained G as it is: no standing statistics
    assert _model(compose_cfg(tmp_path, ["experiment=mnist_conv"])).hparams.standing_stats


def test_experiments_pick_their_dataset(tmp_path):
    assert compose_cfg(tmp_path, ["experiment=fashion_conv"]).data.dataset == "fashion_mnist"
    assert compose_cfg(tmp_path, ["experiment=mnist_conv"]).model.arch == "conv"
