"""Grow the residual generator of a training checkpoint wider, keeping what it has learnt
(Net2Net, Chen et al. 2016): `python -m gan.widen IN.ckpt OUT.ckpt --width 96`, then resume
with `python -m gan.train ... model.g_width=96 ckpt_path=OUT.ckpt`.

Every new channel copies a random old channel of its layer (each old channel copied at most
once while the width at most doubles); the layer reading those channels divides their input
weights by the copy count, so the widened generator draws the same images. Small noise on the
copies' incoming weights (`noise` x the weight's std) lets them part under training. Both G
and its EMA copy are widened; G's Adam moments follow the same maps; D is untouched.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import torch

from gan.nets import Generator

PREFIXES = ("generator.", "g_ema.")


@dataclass(frozen=True)
class ChannelMap:
    """new channel j -> old channel source[j]; counts[c]: how many new channels copy old c."""
    source: torch.Tensor
    counts: torch.Tensor

    @property
    def old(self) -> int:
        return len(self.counts)

    def rows(self, kind: str, area: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(index of the old rows, mask of rows that are copies) for an output dimension laid out
        as channels ("plain"), gain then bias ("pair", conditional batch norm) or channel-major
        pixels ("spatial", the first linear layer: `area` = base side squared)."""
        copy = torch.arange(len(self.source)) >= self.old
        if kind == "pair":
            return torch.cat([self.source, self.source + self.old]), torch.cat([copy, copy])
        if kind == "spatial":
            index = (self.source[:, None] * area + torch.arange(area)).reshape(-1)
            return index, copy.repeat_interleave(area)
        return self.source, copy


def channel_map(old: int, new: int, gen: torch.Generator) -> ChannelMap:
    if new <= 2 * old:
        extra = torch.randperm(old, generator=gen)[: new - old]
    else:
        extra = torch.randint(old, (new - old,), generator=gen)
    source = torch.cat([torch.arange(old), extra])
    return ChannelMap(source, torch.bincount(source, minlength=old).float())


def layer_plan(n_blocks: int) -> dict[str, tuple[tuple[str, str] | None, str | None]]:
    """Layer name in the body -> ((output map, row layout) or None, input map or None)."""
    plan, prev = {"fc": (("c", "spatial"), None)}, "c"
    for i in range(n_blocks):
        p, h, b = f"blocks.{i}.", f"h{i}", f"b{i}"
        plan |= {p + "norm1.bn": ((prev, "plain"), None), p + "norm1.affine": ((prev, "pair"), None),
                 p + "conv1": ((h, "plain"), prev), p + "norm2.bn": ((h, "plain"), None),
                 p + "norm2.affine": ((h, "pair"), None), p + "conv2": ((b, "plain"), h),
                 p + "skip": ((b, "plain"), prev)}
        prev = b
    return plan | {"out.0": ((prev, "plain"), None), "out.2": (None, prev)}


def channel_widths(g: Generator) -> dict[str, int]:
    """Channels per map of `layer_plan`: the first linear layer's, then each block's inside and out."""
    widths = {"c": g.body.blocks[0].norm1.bn.num_features}
    for i, block in enumerate(g.body.blocks):
        widths |= {f"h{i}": block.conv1.out_channels, f"b{i}": block.conv2.out_channels}
    return widths


class Widener:
    """The maps for one old -> new generator pair; `tensor` widens any G tensor by its name."""

    def __init__(self, old: Generator, new: Generator, noise: float, seed: int):
        gen = torch.Generator().manual_seed(seed)
        self.noise, self.gen, self.area = noise, gen, old.body.base ** 2
        self.plan = layer_plan(len(old.body.blocks))
        new_widths = channel_widths(new)
        self.maps = {k: channel_map(w, new_widths[k], gen) for k, w in channel_widths(old).items()}
        self.noises: dict[str, torch.Tensor] = {}  # one draw per weight, shared by G and its EMA

    def tensor(self, name: str, t: torch.Tensor, power: int = 1, noisy: bool = True) -> torch.Tensor:
        """`name` relative to the generator ("body.fc.weight"); `power` 2 for Adam's squared moments."""
        layer = next((k for k in self.plan if name.startswith(f"body.{k}.")), None)
        if layer is None or t.dim() == 0:
            return t
        out, into = self.plan[layer]
        if out:
            index, copies = self.maps[out[0]].rows(out[1], self.area)
            t = t[index].clone()
            if noisy and self.noise and t.dim() >= 2:
                t[copies] += self._noise(name, t, copies)
        if into and t.dim() >= 2:
            m = self.maps[into]
            t = t[:, m.source] / (m.counts[m.source] ** power).view(1, -1, *[1] * (t.dim() - 2)).to(t.dtype)
        return t

    def _noise(self, name: str, t: torch.Tensor, copies: torch.Tensor) -> torch.Tensor:
        if name not in self.noises:
            self.noises[name] = torch.randn(t[copies].shape, generator=self.gen) * t.float().std() * self.noise
        return self.noises[name].to(t.dtype)


def widen_checkpoint(ckpt: dict, width: int, noise: float = 0.01, seed: int = 0) -> dict:
    """A Lightning checkpoint of a resnet GAN run, its generator widened to `width` (in place)."""
    if not {"hyper_parameters", "state_dict", "optimizer_states"} <= set(ckpt):
        raise ValueError("not a training checkpoint (a run's checkpoints/last.ckpt)")
    hp = ckpt["hyper_parameters"]
    if hp.get("arch") != "resnet":
        raise ValueError(f"only the resnet generator widens (this run is {hp.get('arch')!r})")
    if width <= hp["g_width"]:
        raise ValueError(f"width {width} is not wider than the run's g_width {hp['g_width']}")
    config = dict(ckpt["generator"]["config"])
    old, new = Generator(**config), Generator(**(config | {"width": width}))
    w = Widener(old, new, noise, seed)
    state = ckpt["state_dict"]
    for prefix in PREFIXES:
        for key in [k for k in state if k.startswith(prefix)]:
            state[key] = w.tensor(key.removeprefix(prefix), state[key])
    adam = ckpt["optimizer_states"][0]["state"]  # [opt_g, opt_d]; G's in parameter order
    for index, (name, _) in enumerate(old.named_parameters()):
        if index in adam:
            adam[index]["exp_avg"] = w.tensor(name, adam[index]["exp_avg"], 1, noisy=False)
            adam[index]["exp_avg_sq"] = w.tensor(name, adam[index]["exp_avg_sq"], 2, noisy=False)
    hp["g_width"], ckpt["generator"]["config"] = width, config | {"width": width}
    return ckpt


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="a run's Lightning checkpoint (last.ckpt)")
    parser.add_argument("target", type=Path, help="where the widened checkpoint goes")
    parser.add_argument("--width", type=int, required=True, help="the new model.g_width")
    parser.add_argument("--noise", type=float, default=0.01, help="noise on the copies, x the weight's std")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not args.source.is_file():
        parser.exit(2, f"gan.widen: {args.source} is not a file (a run's checkpoints/last.ckpt)\n")
    try:
        ckpt = torch.load(args.source, weights_only=True, map_location="cpu")
    except Exception as err:  # noqa: BLE001 - any unreadable file reads the same to the user
        parser.exit(2, f"gan.widen: cannot read {args.source} as a checkpoint ({type(err).__name__})\n")
    try:
        widen_checkpoint(ckpt, args.width, args.noise, args.seed)
    except ValueError as err:
        parser.exit(2, f"gan.widen: {err}\n")
    torch.save(ckpt, args.target)
    print(f"{args.target}: g_width {args.width}; resume with model.g_width={args.width} ckpt_path={args.target}")


if __name__ == "__main__":
    main()
