"""The judge: a small CNN classifier per dataset whose penultimate layer is the metrics' feature space.

Train and ship one with `python -m gan.judge --dataset mnist` (writes
`checkpoints/judges/mnist/`: config.json + model.safetensors + metrics.json, a few hundred KB).
`load_judge(dataset)` reads it back without any network access. Any registry dataset with
declared classes and shape can have one (`gan.datasets.fixed_datasets`); `RECIPES` holds the
settings that differ from the MNIST defaults.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from gan.data import load_split, to_unit_range
from gan.datasets import fixed_datasets, get_dataset

JUDGES_DIR = Path(__file__).resolve().parent.parent / "checkpoints" / "judges"


def _conv_stage(c_in: int, c_out: int) -> list[nn.Module]:
    """(N, c_in, H, W) -> (N, c_out, H/2, W/2): two 3x3 conv + BN + ReLU, then 2x2 max pooling."""
    return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]


class Judge(nn.Module, PyTorchModelHubMixin, library_name="cgan-studio", tags=["classifier"]):
    """Images (N, C, S, S) in [-1, 1] -> class logits; `features` gives the (N, feature_dim) embedding.

    `stages` conv stages of widths width, 2*width, ..., then adaptive average pooling to
    `pool_size`^2. The defaults are the MNIST/Fashion-MNIST judges' architecture (2 stages,
    7x7 pooling, which is the identity on their 7x7 maps), so their config.json loads unchanged.
    Images of another size than `image_size` are resized first (`fit_input`).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 16,
                 feature_dim: int = 128, dataset: str = "mnist", image_size: int = 28,
                 stages: int = 2, pool_size: int = 7):
        super().__init__()
        self.dataset, self.num_classes, self.feature_dim = dataset, num_classes, feature_dim
        self.in_channels, self.image_size = in_channels, image_size
        widths = [in_channels] + [width * 2**i for i in range(stages)]
        layers = [m for c_in, c_out in zip(widths, widths[1:]) for m in _conv_stage(c_in, c_out)]
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(pool_size))  # (N, W_last, P, P)
        self.embed = nn.Sequential(nn.Flatten(), nn.Dropout(0.3),
                                   nn.Linear(widths[-1] * pool_size**2, feature_dim), nn.ReLU())
        self.head = nn.Linear(feature_dim, num_classes)

    def fit_input(self, images: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) at any size -> (N, C, S, S) at the judge's size: area (average) pooling
        when larger, bilinear when smaller. The one place generated images meet the judge's size."""
        if images.shape[1] != self.in_channels:
            raise ValueError(f"the {self.dataset} judge takes {self.in_channels}-channel images, "
                             f"got {images.shape[1]} channels")
        if images.shape[-2:] == (self.image_size, self.image_size):
            return images
        mode = "area" if images.shape[-1] > self.image_size else "bilinear"
        return F.interpolate(images, size=(self.image_size, self.image_size), mode=mode)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.embed(self.body(self.fit_input(images)))  # (N, feature_dim), post-ReLU like Inception's pool3

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))  # (N, K)


def judge_dir(dataset: str) -> Path:
    return JUDGES_DIR / dataset


def load_judge(dataset: str, folder: str | Path | None = None) -> Judge:
    """The shipped judge for `dataset` (or the one in `folder`), in eval mode, loaded offline.

    Raises:
        FileNotFoundError: no judge there (the message says how to train one, or that the
            dataset cannot have one).
    """
    folder = Path(folder) if folder else judge_dir(dataset)
    if not (folder / "model.safetensors").exists():
        judged = [spec.name for spec in fixed_datasets()]
        hint = (f"train one: python -m gan.judge --dataset {dataset}" if dataset in judged else
                f"only datasets with fixed classes ({', '.join(judged)}) can have one")
        raise FileNotFoundError(f"no judge for {dataset} in {folder}; {hint}")
    from safetensors.torch import load_file

    # read directly, not with from_pretrained: that prints "Loading weights from local directory"
    judge = Judge(**json.loads((folder / "config.json").read_text()))
    judge.load_state_dict(load_file(folder / "model.safetensors"))
    return judge.eval().requires_grad_(False)


# ---------------------------------------------------------------- training


@dataclass(frozen=True)
class Recipe:
    """Architecture and training settings of one dataset's judge."""

    width: int = 16
    stages: int = 2
    pool_size: int = 7
    feature_dim: int = 128
    epochs: int = 4
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-4
    shift: int = 2  # random translations of up to this many pixels (pad + crop)


RECIPES = {"cifar10": Recipe(width=16, stages=4, pool_size=1, feature_dim=128, epochs=15,
                             batch_size=128, lr=3e-3, weight_decay=5e-2, shift=4)}


def augment(images: torch.Tensor, shift: int, flips: bool, rng: torch.Generator) -> torch.Tensor:
    """Per image: a random translation of up to `shift` px (padding with -1) and, with `flips`,
    a horizontal flip half of the time."""
    n, _, h, w = images.shape
    padded = F.pad(images, (shift,) * 4, value=-1.0)
    dx, dy = torch.randint(0, 2 * shift + 1, (2, n), generator=rng).tolist()
    out = torch.stack([p[:, y:y + h, x:x + w] for p, x, y in zip(padded, dx, dy)])
    if flips:
        flip = torch.rand(n, generator=rng) < 0.5
        out = torch.where(flip[:, None, None, None], out.flip(3), out)
    return out


def train_epoch(judge: Judge, opt, sched, images, labels, recipe: Recipe, flips: bool, rng) -> None:
    judge.train()
    for idx in torch.randperm(len(images), generator=rng).split(recipe.batch_size):
        x = augment(to_unit_range(images[idx]), recipe.shift, flips, rng)
        loss = F.cross_entropy(judge(x), labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()


@torch.inference_mode()
def accuracy(judge: Judge, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    """Test accuracy over uint8 (or [-1, 1] float) images."""
    judge.eval()
    to_float = to_unit_range if images.dtype == torch.uint8 else (lambda x: x)
    preds = torch.cat([judge(to_float(x)).argmax(1) for x in images.split(batch_size)])
    return (preds == labels).float().mean().item()


def train_judge(dataset: str, epochs: int | None = None, seed: int = 0) -> tuple[Judge, dict]:
    """Fit a judge on the full training split; return it and its metrics (test accuracy, time)."""
    spec = get_dataset(dataset)
    recipe = RECIPES.get(spec.name, Recipe())
    epochs = epochs or recipe.epochs
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed)
    images, labels = load_split(spec.name, "train")  # (N, C, S, S) uint8
    test_x, test_y = load_split(spec.name, "test")
    judge = Judge(len(spec.class_names), spec.img_shape[0], recipe.width, recipe.feature_dim,
                  spec.name, spec.img_shape[1], recipe.stages, recipe.pool_size)
    opt = torch.optim.AdamW(judge.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    steps = epochs * -(-len(images) // recipe.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe.lr, total_steps=steps)
    peek = torch.randperm(len(test_y), generator=torch.Generator().manual_seed(seed))[:2000]
    start = time.perf_counter()
    for epoch in range(epochs):
        train_epoch(judge, opt, sched, images, labels, recipe, spec.flips, rng)
        print(f"epoch {epoch + 1}/{epochs}: accuracy {accuracy(judge, test_x[peek], test_y[peek]):.4f} "
              f"on 2,000 test images ({time.perf_counter() - start:.0f} s)", flush=True)
    acc = accuracy(judge, test_x, test_y)
    metrics = {"test_accuracy": acc, "epochs": epochs, "seed": seed,
               "train_seconds": round(time.perf_counter() - start), "recipe": asdict(recipe)}
    return judge.eval(), metrics


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train and ship the judge classifier of a dataset.")
    parser.add_argument("--dataset", default="mnist", choices=[spec.name for spec in fixed_datasets()])
    parser.add_argument("--epochs", type=int, default=None, help="default: the dataset's recipe")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="folder (default checkpoints/judges/<dataset>)")
    args = parser.parse_args(argv)
    judge, metrics = train_judge(args.dataset, args.epochs, seed=args.seed)
    out = Path(args.out) if args.out else judge_dir(args.dataset)
    judge.save_pretrained(out)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"judge for {args.dataset}: test accuracy {metrics['test_accuracy']:.4f} -> {out}")


if __name__ == "__main__":
    main()
