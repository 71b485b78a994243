"""Nearest real images in the judge's feature space, on real MNIST (a small index for speed)."""

import torch

from gan import nearest
from gan.data import load_split, to_unit_range

LIMIT = 2000  # the first 2,000 training images; the app indexes all 60,000


def test_a_training_image_finds_itself_first_and_the_index_is_cached(tmp_path):
    images, _ = load_split("mnist", "train")
    seen = []
    match = nearest.find("mnist", to_unit_range(images[123]), cache_dir=tmp_path, limit=LIMIT,
                         progress=seen.append)
    assert match.indices[0] == 123 and match.distances[0] < 1e-2
    assert len(match.indices) == nearest.K and match.distances == sorted(match.distances)
    assert torch.equal(match.images[0], to_unit_range(images[123]))
    assert seen[-1] == 1.0 and len(seen) == LIMIT // nearest.EMBED_BATCH
    low, median, high = match.typical
    assert 0 < low < median < high
    assert nearest.verdict(match.distances[0], match.typical).startswith("closer than 95%")
    (path,) = (tmp_path / "nearest").glob("mnist-*-first2000.pt")
    again = nearest.load_index("mnist", cache_dir=tmp_path, limit=LIMIT, progress=seen.append)
    assert len(seen) == 2 and again.features.shape == (LIMIT, 128)  # read back, not rebuilt


def test_noise_is_far_from_every_real_image(tmp_path):
    noise = torch.rand(1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    match = nearest.find("mnist", noise, cache_dir=tmp_path, limit=LIMIT)
    assert match.distances[0] > match.typical[2]
    assert nearest.verdict(match.distances[0], match.typical).startswith("farther than")


def test_which_datasets_have_a_judge():
    assert nearest.has_judge("mnist") and nearest.has_judge("fashion_mnist")
    assert not nearest.has_judge("cifar_of_my_own") and not nearest.has_judge(None)
