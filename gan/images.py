"""Tensors -> pictures: grids, PIL images, PNG bytes and animated GIFs. No model code here."""

from __future__ import annotations

import io
from pathlib import Path

import torch
from PIL import Image
from PIL.PngImagePlugin import PngInfo


def to_grid(images: torch.Tensor, nrow: int, padding: int = 2, pad_value: float = -1.0) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1] -> one (C, H', W') image, `nrow` images per row."""
    n, c, h, w = images.shape
    rows = -(-n // nrow)
    grid = images.new_full((c, rows * (h + padding) + padding, nrow * (w + padding) + padding), pad_value)
    for i, img in enumerate(images):
        r, col = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[:, top:top + h, left:left + w] = img
    return grid


def to_pil(image: torch.Tensor, scale: int = 1) -> Image.Image:
    """(C, H, W) in [-1, 1] -> PIL image ('L' for one channel, 'RGB' for three), upscaled crisply."""
    arr = ((image.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    arr = arr.permute(1, 2, 0).numpy()
    pil = Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr, "L" if arr.shape[2] == 1 else "RGB")
    if scale > 1:
        pil = pil.resize((pil.width * scale, pil.height * scale), Image.NEAREST)
    return pil


def grid_image(images: torch.Tensor, nrow: int, scale: int = 1, padding: int = 2) -> Image.Image:
    return to_pil(to_grid(images, nrow, padding), scale)


def view_image(images: torch.Tensor, nrow: int, size: int = 256, min_scale: int = 2) -> Image.Image:
    """(N, C, H, W) in [-1, 1] -> a grid upscaled (nearest) so its longer side is about `size` px,
    and at least `min_scale` x (big grids stay readable); a single image gets no border."""
    padding = 0 if len(images) == 1 else 2
    rows = -(-len(images) // nrow)
    longest = max(nrow * (images.shape[3] + padding), rows * (images.shape[2] + padding)) + padding
    return grid_image(images, nrow, scale=max(min_scale, round(size / longest)), padding=padding)


def save_png(image: Image.Image, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    image.save(tmp, format="PNG")
    tmp.replace(path)  # readers never see a half-written file
    return path


def png_bytes(image: Image.Image) -> bytes:
    """PNG bytes; the image's text (`image.info` entries that are strings) goes in as text chunks."""
    info = PngInfo()
    for key, value in image.info.items():
        if isinstance(key, str) and isinstance(value, str):
            info.add_text(key, value)
    buf = io.BytesIO()
    image.save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def gif_bytes(frames: list[Image.Image], duration_ms: int = 80, loop: int = 0) -> bytes:
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:],
                   duration=duration_ms, loop=loop)
    return buf.getvalue()
