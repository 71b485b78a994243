"""Widening a run's generator (gan.widen) on a real tiny MNIST run: same images before noise,
a checkpoint that resumes at the new width."""

import pytest
import torch

from conftest import TINY_RUN, compose_cfg
from gan import load_generator
from gan.nets import Generator
from gan.train import train
from gan.widen import main, widen_checkpoint


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train(compose_cfg(tmp_path_factory.mktemp("widen"), [*TINY_RUN, "logger=csv", "model=resnet"]))


def widened(run, target, width: int, noise: float) -> tuple[dict, Generator]:
    """The run's last.ckpt widened, saved to `target`, and its EMA generator as the app loads it."""
    ckpt = widen_checkpoint(torch.load(run / "checkpoints" / "last.ckpt", weights_only=True), width, noise=noise)
    torch.save(ckpt, target)
    return ckpt, load_generator(target)


def images(g: Generator) -> torch.Tensor:
    with torch.no_grad():
        return g(torch.randn(20, 8, generator=torch.Generator().manual_seed(1)), torch.arange(20) % 10)


def test_widening_keeps_the_images_and_noise_parts_the_copies(run, tmp_path):
    old = images(load_generator(run / "checkpoints" / "last.ckpt"))
    exact, g = widened(run, tmp_path / "exact.ckpt", 12, noise=0.0)
    assert g.body.blocks[0].conv1.out_channels == 24 and exact["hyper_parameters"]["g_width"] == 12
    assert torch.allclose(images(g), old, atol=1e-5)
    _, noisy = widened(run, tmp_path / "noisy.ckpt", 12, noise=0.05)
    assert 0 < (images(noisy) - old).abs().max() < 0.5
    assert not torch.equal(noisy.body.blocks[0].conv1.weight[8:], g.body.blocks[0].conv1.weight[8:])


def test_a_widened_run_resumes_at_the_new_width(run, tmp_path, capsys):
    target = tmp_path / "wide.ckpt"
    main([str(run / "checkpoints" / "last.ckpt"), str(target), "--width", "16"])
    assert "model.g_width=16" in capsys.readouterr().out
    second = train(compose_cfg(tmp_path / "b", [*TINY_RUN, "logger=csv", "model=resnet", "model.g_width=16",
                                                "trainer.max_epochs=2", f"ckpt_path={target}"]))
    resumed = torch.load(second / "checkpoints" / "last.ckpt", weights_only=True)
    assert resumed["g_updates"] == 16 and resumed["hyper_parameters"]["g_width"] == 16
    assert load_generator(second / "export").body.blocks[-1].conv2.out_channels == 16


def test_widening_refuses_other_nets_and_narrower_widths(run, tmp_path, capsys):
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    with pytest.raises(ValueError, match="not wider than the run's g_width 8"):
        widen_checkpoint(ckpt, 8)
    with pytest.raises(ValueError, match="not a training checkpoint"):
        widen_checkpoint({"state_dict": ckpt["state_dict"]}, 16)
    for source in (run / "export", run / "export" / "model.safetensors"):  # a folder, not a pickle
        with pytest.raises(SystemExit) as exit_:
            main([str(source), str(tmp_path / "x.ckpt"), "--width", "16"])
        assert exit_.value.code == 2 and not (tmp_path / "x.ckpt").exists()
    assert "gan.widen:" in capsys.readouterr().err
    conv = train(compose_cfg(tmp_path, [*TINY_RUN, "logger=csv", "model=conv"]))
    with pytest.raises(ValueError, match="only the resnet generator widens"):
        widen_checkpoint(torch.load(conv / "checkpoints" / "last.ckpt", weights_only=True), 16)
