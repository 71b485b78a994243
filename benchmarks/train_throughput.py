"""Images/second of the Lightning training step vs a bare PyTorch loop, same run, same everything.

Both sides use the same networks (a fresh `GANModule` from the same config and seed), the same
optimizers (`configure_optimizers`), the same DataLoader over the experiment's real data, the
same losses, the same EMA update, the same precision (bf16 autocast when the trainer asks for
`bf16-mixed`) and memory format (`model.channels_last`). Lightning runs the Trainer exactly as
the experiment configures it (progress bar and logging on). Rounds alternate so background load
hits both sides alike. One table row per experiment, so old and new nets sit side by side.

    python benchmarks/train_throughput.py [--experiment mnist_conv mnist_resnet ...] [--batches 60]
                                          [--rounds 3] [--batch-size 64]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gan import losses  # noqa: E402
from gan.module import GANModule, ema_decay_at, ema_update  # noqa: E402

WARMUP = 5


def load_cfg(experiment: str, tmp: str, batch_size: int | None, overrides: list[str] = ()):
    configs = Path(__file__).resolve().parent.parent / "configs"
    size = [f"data.batch_size={batch_size}"] if batch_size else []
    with initialize_config_dir(config_dir=str(configs), version_base="1.3"):
        return compose("train", overrides=[f"experiment={experiment}", f"run_dir={tmp}",
                                           "callbacks=none", "logger=none", *size, *overrides])


def build(cfg, batches: int):
    torch.manual_seed(cfg.seed)
    dm = instantiate(cfg.data, _convert_="all", limit_train=(batches + WARMUP) * cfg.data.batch_size)
    dm.setup()
    model = instantiate(cfg.model, _convert_="all", num_classes=len(dm.class_names),
                        img_shape=list(dm.img_shape), class_names=dm.class_names, dataset=dm.dataset)
    return dm, model


def autocast(cfg):
    """What Lightning's precision plugin does around the training step."""
    if str(cfg.trainer.get("precision")) == "bf16-mixed":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


class Clock(pl.Callback):
    """Wall time from the end of the warm-up batches to the end of the epoch."""

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if batch_idx == WARMUP:
            self.start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module):
        self.seconds = time.perf_counter() - self.start


def lightning_rate(cfg, batches: int) -> float:
    dm, model = build(cfg, batches)
    clock = Clock()
    trainer = instantiate(cfg.trainer, _convert_="all", max_epochs=1, logger=False,
                          callbacks=[clock], enable_checkpointing=False, default_root_dir=cfg.run_dir)
    trainer.fit(model, datamodule=dm)
    return batches * cfg.data.batch_size / clock.seconds


def bare_rate(cfg, batches: int) -> float:
    dm, model = build(cfg, batches)
    g, d, g_ema, hp = model.generator, model.discriminator, model.g_ema, model.hparams
    opt_g, opt_d = model.configure_optimizers()
    g.train(), d.train()
    start, steps = None, 0
    for i, (real, labels) in enumerate(dm.train_dataloader()):
        if i == WARMUP:
            start = time.perf_counter()
        if hp.get("channels_last"):
            real = real.contiguous(memory_format=torch.channels_last)
        with autocast(cfg):
            with torch.no_grad():
                fake = g(torch.randn(len(real), hp.latent_dim), labels)
            loss_d = losses.d_loss(hp.loss, d(real, labels), d(fake, labels))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        if (i + 1) % hp.d_steps:
            continue
        with autocast(cfg):
            loss_g = losses.g_loss(hp.loss, d(g(torch.randn(len(real), hp.latent_dim), labels), labels))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        ema_update(g_ema, g, ema_decay_at(steps, hp.ema_decay))
        steps += 1
    return batches * cfg.data.batch_size / (time.perf_counter() - start)


def describe(cfg) -> str:
    m = cfg.model
    precision = cfg.trainer.get("precision") or "32-true"
    layout = ", channels_last" if m.get("channels_last") else ""
    return f"{m.arch} G{m.g_width}/D{m.d_width}, {precision}{layout}"


def measure(experiment: str, args) -> tuple[str, int, float, float]:
    cfg = load_cfg(experiment, "/tmp/gan-bench", args.batch_size)
    rates = {"lightning": [], "bare": []}
    for _ in range(args.rounds):
        rates["lightning"].append(lightning_rate(cfg, args.batches))
        rates["bare"].append(bare_rate(cfg, args.batches))
    return (describe(cfg), cfg.data.batch_size, statistics.median(rates["bare"]),
            statistics.median(rates["lightning"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", nargs="+", default=["mnist_conv"])
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=None, help="default: each experiment's own")
    args = parser.parse_args()
    rows = [(name, *measure(name, args)) for name in args.experiment]
    print(f"\n{args.batches} timed batches x {args.rounds} alternating rounds, "
          f"{torch.get_num_threads()} threads, median images/s\n")
    print("| experiment | nets | batch | bare PyTorch | Lightning | Lightning / bare |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name, nets, batch, bare, light in rows:
        print(f"| {name} | {nets} | {batch} | {bare:.0f} | {light:.0f} | {light / bare:.2f} |")


if __name__ == "__main__":
    main()
