"""Generator terms besides the adversarial loss: mode seeking, the class pull and the coverage term."""

import pytest
import torch

from gan.losses import covering, mode_seeking, r1_penalty
from gan.module import GANModule


def test_mode_seeking_penalises_collapse():
    z_a, z_b = torch.zeros(4, 8), torch.ones(4, 8)
    same = torch.zeros(4, 1, 28, 28)
    apart = torch.full((4, 1, 28, 28), 0.5)
    assert mode_seeking(same, same.clone(), z_a, z_b) > 1e4  # collapsed: 1 / eps
    assert mode_seeking(same, apart, z_a, z_b) == pytest.approx(2.0, rel=1e-4)  # 1 / (0.5 / 1)


def test_mode_seeking_gradient_pushes_images_apart():
    torch.manual_seed(0)
    z_a, z_b = torch.randn(4, 8), torch.randn(4, 8)
    fake_a = torch.rand(4, 1, 8, 8)
    fake_b = (fake_a + 0.01 * torch.randn_like(fake_a)).requires_grad_(True)
    before = (fake_a - fake_b).abs().mean().item()
    mode_seeking(fake_a, fake_b, z_a, z_b).backward()
    with torch.no_grad():
        fake_b -= 1e-6 * fake_b.grad
    assert (fake_a - fake_b).abs().mean().item() > before


def test_negative_mode_seeking_weight_is_refused():
    with pytest.raises(ValueError, match="ms_weight"):
        GANModule(ms_weight=-1.0)


def test_class_pull_leaves_images_the_head_already_places_alone():
    from gan.losses import class_pull

    ce = torch.tensor([0.05, 0.3], requires_grad=True)
    assert class_pull(ce).item() == pytest.approx(0.175)  # margin 0: the plain mean
    pull = class_pull(ce, 0.1)
    assert pull.item() == pytest.approx(0.1)  # (0 + 0.2) / 2
    pull.backward()
    assert ce.grad.tolist() == [0.0, 0.5]  # no gradient through the confident image


def test_the_class_margin_reaches_the_generator_loss():
    """`ac_margin` larger than any cross-entropy leaves only the adversarial term; 0 adds the pull."""
    module = GANModule(arch="resnet", latent_dim=8, ac_weight=1.0, ac_margin=100.0).eval()  # no power iterations
    labels = torch.arange(4)
    torch.manual_seed(0)
    with_margin = module._generator_loss(torch.zeros(4, 1, 28, 28), labels).item()
    torch.manual_seed(0)
    score, _ = module._score(module.generator(module._noise(4), labels), labels)
    module.hparams.ac_margin = 0.0
    torch.manual_seed(0)
    without = module._generator_loss(torch.zeros(4, 1, 28, 28), labels).item()
    assert with_margin == pytest.approx(-score.mean().item(), abs=1e-5)
    assert without > with_margin + 1.0  # an untrained head: cross-entropy near log 10


def test_covering_noise_draws_images_nearer_the_real_ones_than_chance():
    """IMLE's search: of 32 noises per real image, the chosen one's image lies nearer that image
    than a fresh noise's does (argmax or a transposed pick would not)."""
    torch.manual_seed(0)
    module = GANModule(arch="resnet", latent_dim=8, g_width=8, cover_weight=1.0, cover_pool=32)
    labels = torch.arange(8) % 10
    real = module.generator(module._noise(8), labels).detach()
    with torch.no_grad():
        near = module.generator(module._covering_noise(real, labels), labels)
        chance = module.generator(module._noise(8), labels)
    assert covering(near, real) < 0.8 * covering(chance, real)


def test_the_coverage_term_reaches_the_generator_loss():
    module = GANModule(arch="resnet", latent_dim=8, g_width=8, d_width=8, cover_weight=0.0).eval()
    labels, real = torch.arange(4), torch.zeros(4, 1, 28, 28)
    torch.manual_seed(0)
    without = module._generator_loss(real, labels).item()
    module.hparams.cover_weight = 100.0
    torch.manual_seed(0)
    with_term = module._generator_loss(real, labels).item()
    assert with_term > without + 1.0  # images in [-1, 1] against black: distance well above 0.01


def test_negative_coverage_weight_is_refused():
    with pytest.raises(ValueError, match="cover_weight"):
        GANModule(cover_weight=-1.0)


def test_r1_is_the_squared_gradient_norm_of_the_scores_on_real_images():
    w = torch.tensor([3.0, 4.0])
    real = torch.randn(5, 2, requires_grad=True)
    assert r1_penalty(real @ w, real).item() == pytest.approx(25.0)  # |w|^2 for every image
    assert r1_penalty((real ** 2).sum(1), real).item() == pytest.approx(4 * (real ** 2).sum(1).mean().item())


def test_r1_reaches_the_discriminator_loss_on_its_steps_only():
    module = GANModule(arch="resnet", latent_dim=8, g_width=8, d_width=8, r1_gamma=10.0, r1_every=4).eval()
    labels, real = torch.arange(4), torch.rand(4, 1, 28, 28) * 2 - 1

    def loss(r1: bool) -> float:
        torch.manual_seed(0)
        return module._discriminator_loss(real, labels, r1=r1).item()

    without, with_r1 = loss(False), loss(True)
    x = real.clone().requires_grad_(True)
    penalty = r1_penalty(module.discriminator(x, labels), x)
    assert with_r1 == pytest.approx(without + 10.0 * 4 / 2 * penalty.item(), rel=1e-4)
    assert penalty.item() > 0 and not real.requires_grad
    module.hparams.r1_gamma = 0.0
    assert loss(True) == pytest.approx(without)


def test_bad_r1_settings_are_refused():
    for bad in ({"r1_gamma": -1.0}, {"r1_every": 0}):
        with pytest.raises(ValueError, match="r1_"):
            GANModule(**bad)


def test_pack_order_groups_each_class_into_whole_packs():
    from gan.module import pack_order

    labels = torch.tensor([3, 1, 3, 1, 1, 0, 3, 2, 2, 3])
    order = pack_order(labels, 2)
    assert labels[order].tolist() == [1, 1, 2, 2, 3, 3, 3, 3]  # the odd 0 and the third 1 left out
    assert len(set(order.tolist())) == len(order)
    assert labels[pack_order(labels, 3)].tolist() == [1, 1, 1, 3, 3, 3]


def test_a_packed_discriminator_scores_each_group_of_one_class_together():
    """pack 2: one score per pair of same-class images; changing one image moves its pair's
    score only; the class head still gives one cross-entropy per image."""
    torch.manual_seed(0)
    module = GANModule(arch="resnet", latent_dim=8, d_width=8, pack=2, ac_weight=0.3,
                       channels_last=True).eval()  # eval: no power iterations between calls
    labels = torch.tensor([0, 1, 0, 1, 2])  # the lone 2 is left out
    images = torch.rand(5, 1, 28, 28) * 2 - 1
    scores, ce = module._score(images, labels)
    assert scores.shape == (2,) and ce.shape == (4,)
    changed = images.clone()
    changed[3] = torch.rand(1, 28, 28)  # a 1: the second pair (the 0s come first)
    moved = module._score(changed, labels)[0] != scores
    assert moved.tolist() == [False, True]
    with pytest.raises(ValueError, match="raise data.batch_size"):
        module._score(images[:2], labels[:2])  # a 0 and a 1: no pair


def test_packing_needs_the_residual_discriminator_and_a_positive_size():
    with pytest.raises(ValueError, match="needs arch resnet"):
        GANModule(arch="conv", pack=2)
    with pytest.raises(ValueError, match="pack"):
        GANModule(arch="resnet", pack=0)
