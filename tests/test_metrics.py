"""Metrics that can fail: synthetic sets with known answers, real-vs-real near floor, noise far off."""

import pytest
import torch

from gan.judge import load_judge
from gan.metrics import covered, embed, frechet_distance, precision_recall, real_subset, score


def test_frechet_distance_matches_closed_form_for_shifted_gaussians():
    rng = torch.Generator().manual_seed(0)
    real = torch.randn(20000, 4, generator=rng)
    shift = torch.tensor([1.0, -2.0, 0.0, 0.5])
    fake = torch.randn(20000, 4, generator=rng) + shift
    # same covariance, so the distance is |mu1 - mu2|^2 = 5.25
    assert frechet_distance(real, fake) == pytest.approx(5.25, abs=0.1)
    assert frechet_distance(real, real[:10000]) < 0.01


def four_modes() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Real points around four centres (250 each, in order); a sample of only the first two
    modes; a sample far from all of them."""
    rng = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    real = centres.repeat_interleave(250, 0) + torch.randn(1000, 2, generator=rng)
    half = centres[:2].repeat_interleave(500, 0) + torch.randn(1000, 2, generator=rng)
    return real, half, torch.randn(1000, 2, generator=rng) + 50.0


def test_precision_recall_see_mode_dropping_and_off_manifold_samples():
    real, half, far = four_modes()
    p, r = precision_recall(real, real.flip(0))
    assert p == 1.0 and r == 1.0
    p, r = precision_recall(real, half)  # two of four modes: every sample real-looking, half recall
    assert p > 0.95 and 0.4 < r < 0.6
    p, r = precision_recall(real, far)
    assert p == 0.0 and r == 0.0


def test_coverage_per_point_names_the_dropped_modes():
    real, half, _ = four_modes()
    hit = covered(real, half)  # the real points that the two kept modes cover
    assert hit.dtype == torch.bool and hit.shape == (1000,)
    assert hit[:500].float().mean() > 0.9 and not hit[500:].any()
    assert hit.float().mean().item() == pytest.approx(precision_recall(real, half)[1])


@pytest.fixture(scope="module")
def mnist_sets():
    judge = load_judge("mnist")
    test = embed(judge, *real_subset("mnist", "test", 200, seed=0))
    train = embed(judge, *real_subset("mnist", "train", 200, seed=0))
    noise = torch.rand(2000, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    return test, train, embed(judge, noise, torch.arange(10).repeat_interleave(200))


def test_real_vs_real_is_near_the_floor_and_noise_is_far(mnist_sets):
    test, train, noise = mnist_sets
    real = score(test, train, 10)
    bad = score(test, noise, 10, per_class=False)
    assert real["class_acc"] > 0.97 and min(real["class_acc_per_class"]) > 0.9
    assert real["precision"] > 0.6 and real["recall"] > 0.6
    assert bad["class_acc"] < 0.3 and bad["precision"] < 0.05 and bad["recall"] < 0.05
    assert bad["fid"] > 20 * real["fid"]
    assert max(real["fid_per_class"]) < bad["fid"]
