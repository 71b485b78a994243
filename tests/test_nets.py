import pytest
import torch

from gan import load_generator
from gan.checkpoints import CheckpointError
from gan.nets import Generator, build_discriminator


@pytest.mark.parametrize("arch", ["mlp", "conv", "resnet"])
def test_shapes_range_and_metadata(arch):
    g = Generator(arch, latent_dim=16, num_classes=10, img_shape=(1, 28, 28), width=8).eval()
    d = build_discriminator(arch, 10, (1, 28, 28), width=8, spectral=True)
    z, y = torch.randn(5, 16), torch.arange(5)
    with torch.no_grad():
        x = g(z, y)
        score = d(x, y)
    assert x.shape == (5, 1, 28, 28) and score.shape == (5,)
    assert x.min() >= -1 and x.max() <= 1 and x.std() > 0
    assert (g.latent_dim, g.num_classes, g.img_shape) == (16, 10, (1, 28, 28))
    assert g.class_names == [str(i) for i in range(10)]


@pytest.mark.parametrize("shape, blocks", [((1, 28, 28), 2), ((3, 32, 32), 3), ((3, 64, 64), 4), ((1, 8, 8), 1)])
def test_resnet_depth_follows_the_image_side(shape, blocks):
    g = Generator("resnet", latent_dim=8, num_classes=3, img_shape=shape, width=4).eval()
    d = build_discriminator("resnet", 3, shape, width=4)
    with torch.no_grad():
        x = g(torch.randn(2, 8), torch.tensor([0, 2]))
        assert x.shape == (2, *shape) and d(x, torch.tensor([0, 2])).shape == (2,)
    assert len(g.body.blocks) == blocks and len(d.blocks) == blocks + 1
    assert Generator(**g.config).config == g.config


def test_soft_labels_match_hard_labels_at_the_corners(tiny_generator):
    z = torch.randn(3, 8)
    hard = torch.tensor([2, 5, 7])
    soft = torch.nn.functional.one_hot(hard, 10).float()
    with torch.no_grad():
        assert torch.allclose(tiny_generator(z, hard), tiny_generator(z, soft), atol=1e-6)
        half = tiny_generator(z, 0.5 * soft + 0.5 * torch.nn.functional.one_hot(torch.tensor([3, 3, 3]), 10))
    assert not torch.allclose(half, tiny_generator(z, hard))


def test_same_seed_same_images(tiny_generator):
    def draw(seed):
        z = torch.randn(4, 8, generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            return tiny_generator(z, torch.arange(4))
    assert torch.equal(draw(3), draw(3))
    assert not torch.equal(draw(3), draw(4))


def test_export_round_trip_identical(tmp_path, tiny_generator):
    from gan.export import export_generator

    folder = export_generator(tiny_generator, tmp_path / "export", {"dataset": "mnist"})
    assert {"config.json", "model.safetensors", "samples.png", "README.md", "card.json"} <= {
        p.name for p in folder.iterdir()}
    loaded = load_generator(folder)
    z, y = torch.randn(6, 8), torch.arange(6)
    with torch.no_grad():
        assert torch.equal(loaded(z, y), tiny_generator(z, y))
    assert loaded.class_names == tiny_generator.class_names


def test_class_names_must_match_classes():
    with pytest.raises(ValueError, match="class names"):
        Generator("conv", num_classes=3, class_names=["a", "b"])


def test_missing_export_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="no such file or folder"):
        load_generator(tmp_path / "nothing")
