"""GAN quality in numbers, measured in a judge classifier's feature space.

For a set of images with intended labels and a real reference set (the test split):
- class accuracy: how often the judge labels an image with its intended class (overall, per class);
- Frechet distance between feature Gaussians (overall, per class), computed by torchmetrics'
  `FrechetInceptionDistance` with the judge features as its feature extractor;
- precision / recall on k-NN manifolds (Kynkaanniemi et al. 2019).
`real_floor` scores a seeded real training subset the same way: the best a generator can hope for.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance

from gan.data import load_split, to_unit_range


@dataclass
class Embedded:
    """A set of images seen by the judge: features (N, D), predicted and intended labels (N,)."""

    features: torch.Tensor
    predicted: torch.Tensor
    labels: torch.Tensor


class PrecomputedFeatures(nn.Identity):
    """Feature extractor for torchmetrics' FID when the judge features are already computed.

    The judge runs once per image; FID statistics (float64 means, covariances and the matrix
    square root) are left to torchmetrics.
    """

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features


@torch.inference_mode()
def embed(judge: nn.Module, images: torch.Tensor, labels: torch.Tensor,
          batch_size: int = 500) -> Embedded:
    """Run the judge over images (N, C, H, W) in [-1, 1] in batches."""
    feats, preds = [], []
    for x in images.split(batch_size):
        f = judge.features(x)
        feats.append(f)
        preds.append(judge.head(f).argmax(1))
    return Embedded(torch.cat(feats), torch.cat(preds), labels.long())


def frechet_distance(real: torch.Tensor, fake: torch.Tensor) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (N, D), (M, D)."""
    fid = FrechetInceptionDistance(feature=PrecomputedFeatures(real.shape[1]))
    fid.update(real, real=True)
    fid.update(fake, real=False)
    return max(float(fid.compute()), 0.0)  # tiny negative values are eigenvalue round-off


def _kth_radii(points: torch.Tensor, k: int, chunk: int) -> torch.Tensor:
    """Distance of each point to its k-th nearest neighbour in the same set (self excluded)."""
    return torch.cat([torch.cdist(p, points).kthvalue(k + 1, dim=1).values for p in points.split(chunk)])


def covered(queries: torch.Tensor, centres: torch.Tensor, k: int = 3, chunk: int = 1000) -> torch.Tensor:
    """(N,) bool: which queries lie inside at least one centre's k-NN ball (centre_i, distance to
    its k-th nearest centre). Its mean is precision (queries = fake, centres = real) or recall
    (queries = real, centres = fake); per point it says which real images recall misses."""
    radii = _kth_radii(centres, k, chunk)
    return torch.cat([(torch.cdist(q, centres) <= radii).any(dim=1) for q in queries.split(chunk)])


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3,
                     chunk: int = 1000) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019), k-NN balls in feature space."""
    precision = covered(fake, real, k, chunk).float().mean()
    recall = covered(real, fake, k, chunk).float().mean()
    return float(precision), float(recall)


def class_accuracy(e: Embedded, num_classes: int) -> tuple[float, list[float]]:
    hits = (e.predicted == e.labels).float()
    per_class = [hits[e.labels == k].mean().item() for k in range(num_classes)]
    return hits.mean().item(), per_class


def score(real: Embedded, fake: Embedded, num_classes: int, per_class: bool = True,
          k: int = 3) -> dict:
    """All metrics of `fake` against the real reference `real`.

    Returns:
        {"class_acc", "fid", "precision", "recall"} and, with `per_class`,
        {"class_acc_per_class", "fid_per_class"} as lists indexed by class.
    """
    acc, acc_k = class_accuracy(fake, num_classes)
    precision, recall = precision_recall(real.features, fake.features, k)
    out = {"class_acc": acc, "fid": frechet_distance(real.features, fake.features),
           "precision": precision, "recall": recall}
    if per_class:
        out["class_acc_per_class"] = acc_k
        out["fid_per_class"] = [frechet_distance(real.features[real.labels == c],
                                                 fake.features[fake.labels == c])
                                for c in range(num_classes)]
    return out


def _pick_per_class(labels: torch.Tensor, per_class: int, rng: torch.Generator) -> torch.Tensor:
    picks = []
    for c in labels.unique():
        idx = torch.nonzero(labels == c).squeeze(1)
        picks.append(idx[torch.randperm(len(idx), generator=rng)[:per_class]])
    return torch.cat(picks)


def real_subset(dataset: str, split: str, per_class: int | None = None,
                seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded class-balanced subset of a split in [-1, 1] (the whole split when per_class is None)."""
    images, labels = load_split(dataset, split)
    if per_class is not None:
        idx = _pick_per_class(labels, per_class, torch.Generator().manual_seed(seed))
        images, labels = images[idx], labels[idx]
    return to_unit_range(images), labels.long()
