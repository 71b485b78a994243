import pytest
import torch

from gan.augment import check_policy, cutout, diff_augment, translation
from gan.module import GANModule


def test_policies_keep_shape_and_pass_gradients():
    x = torch.rand(4, 3, 16, 16, requires_grad=True)
    y = diff_augment(x, check_policy("color, translation,cutout"))
    y.square().sum().backward()
    assert y.shape == x.shape and x.grad.abs().sum() > 0


def test_translation_shifts_content_and_cutout_zeroes_a_square():
    torch.manual_seed(0)
    x = torch.ones(64, 1, 8, 8)
    shifted = translation(x)
    assert (shifted == 0).any() and torch.equal(translation(x, ratio=0.0), x)
    holes = (cutout(x) == 0).flatten(1).sum(1)
    assert holes.max() == 16 and holes.min() > 0  # a 4x4 square, clipped at the borders


def test_unknown_policy_is_refused_by_the_module():
    with pytest.raises(ValueError, match="unknown augmentation"):
        GANModule(latent_dim=8, g_width=8, d_width=8, augment="color,flip")
