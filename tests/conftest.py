"""Shared fixtures: real data location, Hydra composition, tiny networks."""

from __future__ import annotations

import os
import socket
import struct
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
SHARED_DATA = ROOT.parent / "shared" / "data"
ARTIFACTS = ROOT / "test-artifacts"  # screenshots of the browser tests (not committed)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

if "GAN_DATA_DIR" not in os.environ and SHARED_DATA.is_dir():
    os.environ["GAN_DATA_DIR"] = str(SHARED_DATA)
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch.set_num_threads(min(2, os.cpu_count() or 1))


def free_port() -> int:
    """A port nobody listens on now (other people run test servers on this machine too)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def compose_cfg(run_dir: Path, overrides: list[str] = ()):
    """The training config as `python -m gan.train` would see it, with run_dir pinned."""
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        return compose("train", overrides=[f"run_dir={run_dir}", *overrides])


@pytest.fixture
def tiny_generator():
    from gan.nets import Generator

    torch.manual_seed(0)
    return Generator("conv", latent_dim=8, num_classes=10, img_shape=(1, 28, 28), width=8).eval()


# Smallest real training: few batches of real MNIST, narrow nets, no progress bar.
TINY_RUN = ["data.limit_train=256", "data.batch_size=32", "model.g_width=8", "model.d_width=8",
            "model.latent_dim=8", "trainer.max_epochs=1", "trainer.enable_progress_bar=false",
            "trainer.log_every_n_steps=2"]


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory):
    """Export folder of a tiny conv generator whose classes differ (untrained CBN is class-blind)."""
    from gan.export import export_generator
    from gan.nets import Generator

    torch.manual_seed(0)
    g = Generator("conv", latent_dim=8, num_classes=10, img_shape=(1, 28, 28), width=8)
    with torch.no_grad():
        for p in g.parameters():
            p.add_(0.3 * torch.randn_like(p))
    card = {"title": "tiny test generator", "dataset": "mnist", "epochs": 1, "metrics": {"val/fid": 123.4}}
    return export_generator(g.eval(), tmp_path_factory.mktemp("tiny") / "export", card)


def make_image_folder(root: Path) -> Path:
    """3 classes of 6 PNGs of different sizes (most not square; each class's 0.png transparent),
    one truncated PNG, one text file: what a person's folder looks like, flaws included."""
    from PIL import Image

    colours = {"apple": (200, 30, 30), "banana": (230, 220, 40), "cherry": (120, 0, 60)}
    for k, (name, rgb) in enumerate(colours.items()):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(6):
            size = (20 + 7 * i + k, 16 + 5 * i)  # every image another size, most not square
            image = Image.new("RGBA", size, (*rgb, 0)) if i == 0 else Image.new("RGB", size, rgb)
            image.save(folder / f"{i}.png")
    good = (root / "apple" / "1.png").read_bytes()
    (root / "banana" / "broken.png").write_bytes(good[: len(good) // 2])  # truncated
    (root / "cherry" / "notes.txt").write_text("not an image")
    return root


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory) -> Path:
    return make_image_folder(tmp_path_factory.mktemp("pictures") / "fruit")


def wandb_records(path):
    """Parse W&B's offline run file: a 7-byte header, then LevelDB-log chunks of protobuf Records."""
    from wandb.proto import wandb_internal_pb2 as pb

    data, pos, buf, records = path.read_bytes(), 7, b"", []
    while pos + 7 <= len(data):
        if 32768 - pos % 32768 < 7:  # block trailer padding
            pos += 32768 - pos % 32768
            continue
        _crc, n, kind = struct.unpack("<IHB", data[pos:pos + 7])
        buf, pos = buf + data[pos + 7:pos + 7 + n], pos + 7 + n
        if kind in (1, 4):  # FULL or LAST chunk ends a record
            record = pb.Record()
            record.ParseFromString(buf)
            records.append(record)
            buf = b""
    return records
