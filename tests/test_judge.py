"""The shipped judges load offline and classify real test images well; the generalised judge
keeps the old MNIST/Fashion-MNIST judges' outputs and takes images of any size."""

import json

import pytest
import torch
import torch.nn.functional as F

from gan.judge import JUDGES_DIR, Judge, load_judge
from gan.metrics import real_subset

# Logits [:2, :4] and hits out of 500 (50 per class, seed 1) of the shipped judges, computed
# with the judge code before it was generalised (fixed 2 stages, `2 * width * 49` flatten).
BEFORE = {"mnist": ([8.764, -6.3496, 1.3449, -4.5093, 12.3969, -6.3941, -2.9897, -5.906], 497),
          "fashion_mnist": ([8.4289, -4.6841, 0.3341, 2.3136, 2.8364, -2.9482, 1.1646, -3.2364], 449)}


@pytest.mark.parametrize("dataset,floor", [("mnist", 0.98), ("fashion_mnist", 0.88), ("cifar10", 0.8)])
def test_shipped_judge_loads_offline_and_classifies(dataset, floor, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    judge = load_judge(dataset)
    assert not judge.training and judge.dataset == dataset
    images, labels = real_subset(dataset, "test", 50, seed=1)
    with torch.inference_mode():
        assert judge.features(images[:3]).shape == (3, judge.feature_dim)
        acc = (judge(images).argmax(1) == labels).float().mean().item()
    assert acc >= floor
    assert (JUDGES_DIR / dataset / "model.safetensors").stat().st_size < 4_000_000
    assert json.loads((JUDGES_DIR / dataset / "metrics.json").read_text())["test_accuracy"] >= floor


@pytest.mark.parametrize("dataset", BEFORE)
def test_old_judges_score_exactly_as_before(dataset):
    config = json.loads((JUDGES_DIR / dataset / "config.json").read_text())
    assert "stages" not in config  # an old config: the defaults must rebuild the old network
    judge = load_judge(dataset)
    images, labels = real_subset(dataset, "test", 50, seed=1)
    logits, hits = BEFORE[dataset]
    with torch.inference_mode():
        assert judge(images[:2])[:, :4].flatten().tolist() == pytest.approx(logits, abs=1e-3)
        assert (judge(images).argmax(1) == labels).sum().item() == hits


def test_any_shape_and_resizing_in_one_place():
    torch.manual_seed(0)
    judge = Judge(num_classes=5, in_channels=3, width=4, feature_dim=16, dataset="x", image_size=32,
                  stages=3, pool_size=1).eval()
    x32 = torch.rand(2, 3, 32, 32) * 2 - 1
    x64 = F.interpolate(x32, scale_factor=2, mode="nearest")  # each pixel a 2x2 block
    with torch.inference_mode():
        assert judge(x32).shape == (2, 5) and judge.features(x32).shape == (2, 16)
        assert torch.allclose(judge(x64), judge(x32), atol=1e-6)  # 2x2 area pooling undoes it
        assert torch.equal(judge.fit_input(x64), F.avg_pool2d(x64, 2))
        assert judge.fit_input(x32[:, :, :16, :16]).shape == (2, 3, 32, 32)
    with pytest.raises(ValueError, match="takes 3-channel images, got 1 channels"):
        judge(torch.zeros(1, 1, 32, 32))


def test_missing_judge_says_how_to_train_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m gan.judge --dataset mnist"):
        load_judge("mnist", tmp_path)
    with pytest.raises(FileNotFoundError, match="only datasets with fixed classes"):
        load_judge("image_folder")
