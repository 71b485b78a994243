"""The shipped judges load offline and classify real test images well."""

import pytest
import torch

from gan.judge import JUDGES_DIR, load_judge
from gan.metrics import real_subset


@pytest.mark.parametrize("dataset,floor", [("mnist", 0.98), ("fashion_mnist", 0.88)])
def test_shipped_judge_loads_offline_and_classifies(dataset, floor, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    judge = load_judge(dataset)
    assert not judge.training and judge.dataset == dataset
    images, labels = real_subset(dataset, "test", 50, seed=1)
    with torch.inference_mode():
        assert judge.features(images[:3]).shape == (3, judge.feature_dim)
        acc = (judge(images).argmax(1) == labels).float().mean().item()
    assert acc >= floor
    assert (JUDGES_DIR / dataset / "model.safetensors").stat().st_size < 2_000_000


def test_missing_judge_says_how_to_train_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m gan.judge"):
        load_judge("mnist", tmp_path)
