"""The judge: a small CNN classifier per dataset whose penultimate layer is the metrics' feature space.

Train and ship one with `python -m gan.judge --dataset mnist` (writes
`checkpoints/judges/mnist/`: config.json + model.safetensors, a few hundred KB).
`load_judge(dataset)` reads it back without any network access.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from gan.data import dataset_info, load_split, to_unit_range

JUDGES_DIR = Path(__file__).resolve().parent.parent / "checkpoints" / "judges"


class Judge(nn.Module, PyTorchModelHubMixin, library_name="cgan-studio", tags=["classifier"]):
    """Images (N, C, 28, 28) in [-1, 1] -> class logits; `features` gives the (N, feature_dim) embedding."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 16,
                 feature_dim: int = 128, dataset: str = "mnist"):
        super().__init__()
        self.dataset, self.num_classes, self.feature_dim = dataset, num_classes, feature_dim
        self.body = nn.Sequential(  # (N, C, 28, 28) -> (N, 2W, 7, 7)
            nn.Conv2d(in_channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.MaxPool2d(2))
        self.embed = nn.Sequential(nn.Flatten(), nn.Dropout(0.3),
                                   nn.Linear(2 * width * 49, feature_dim), nn.ReLU())
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.embed(self.body(images))  # (N, feature_dim), post-ReLU like Inception's pool3

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))  # (N, K)


def judge_dir(dataset: str) -> Path:
    return JUDGES_DIR / dataset


def load_judge(dataset: str, folder: str | Path | None = None) -> Judge:
    """The shipped judge for `dataset` (or the one in `folder`), in eval mode, loaded offline."""
    from safetensors.torch import load_file

    folder = Path(folder) if folder else judge_dir(dataset)
    if not (folder / "model.safetensors").exists():
        raise FileNotFoundError(f"no judge in {folder}; train one: python -m gan.judge --dataset {dataset}")
    # read directly, not with from_pretrained: that prints "Loading weights from local directory"
    judge = Judge(**json.loads((folder / "config.json").read_text()))
    judge.load_state_dict(load_file(folder / "model.safetensors"))
    return judge.eval().requires_grad_(False)


def augment(images: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    """Random shifts of up to 2 pixels (pad + crop): cheap and enough to push MNIST past 99%."""
    n, _, h, w = images.shape
    padded = F.pad(images, (2, 2, 2, 2), value=-1.0)
    dx, dy = torch.randint(0, 5, (2,), generator=rng).tolist()
    return padded[:, :, dy:dy + h, dx:dx + w]


def train_epoch(judge: Judge, opt, sched, images, labels, batch_size: int, rng) -> None:
    judge.train()
    for idx in torch.randperm(len(images), generator=rng).split(batch_size):
        loss = F.cross_entropy(judge(augment(images[idx], rng)), labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()


@torch.inference_mode()
def accuracy(judge: Judge, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    judge.eval()
    preds = torch.cat([judge(x).argmax(1) for x in images.split(batch_size)])
    return (preds == labels).float().mean().item()


def train_judge(dataset: str, epochs: int = 4, batch_size: int = 128, lr: float = 2e-3,
                seed: int = 0) -> tuple[Judge, float]:
    """Fit a judge on the full training split; return it and its test accuracy."""
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed)
    images, labels = load_split(dataset, "train")
    images, labels = to_unit_range(images), labels.long()
    judge = Judge(num_classes=len(dataset_info(dataset).class_names), dataset=dataset)
    opt = torch.optim.AdamW(judge.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * -(-len(images) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    test_x, test_y = load_split(dataset, "test")
    for epoch in range(epochs):
        train_epoch(judge, opt, sched, images, labels, batch_size, rng)
        acc = accuracy(judge, to_unit_range(test_x), test_y.long())
        print(f"epoch {epoch + 1}/{epochs}: test accuracy {acc:.4f}", flush=True)
    return judge.eval(), acc


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train and ship the judge classifier of a dataset.")
    parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion_mnist"])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="folder (default checkpoints/judges/<dataset>)")
    args = parser.parse_args(argv)
    judge, acc = train_judge(args.dataset, args.epochs, seed=args.seed)
    out = Path(args.out) if args.out else judge_dir(args.dataset)
    judge.save_pretrained(out)
    (out / "metrics.json").write_text(json.dumps({"test_accuracy": acc, "epochs": args.epochs,
                                                   "seed": args.seed}, indent=2))
    print(f"judge for {args.dataset}: test accuracy {acc:.4f} -> {out}")


if __name__ == "__main__":
    main()
