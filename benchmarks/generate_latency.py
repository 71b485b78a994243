"""Latency of `/generate` through gradio_client next to the framework's floor, in one run.

The floor is a do-nothing endpoint added to the same app (`app.demo`, as `python app.py` serves
it), wired to the same inputs and the same output image component, returning a ready-made image
of the same size. Calls alternate between the two so background load hits both alike. Also
times the bare generator forward for one image.

    python benchmarks/generate_latency.py [--calls 200] [--source mnist]
"""

from __future__ import annotations

import argparse
import functools
import itertools
import statistics
import sys
import time
from pathlib import Path

import gradio as gr
import torch
from gradio_client import Client

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import app  # noqa: E402  (the served app, with its thread setting)
from gan import load_generator  # noqa: E402
from gan.ui.generate import generate  # noqa: E402

WARMUP = 20


def add_floor(demo: gr.Blocks, source: str) -> None:
    """`/floor`: same inputs and output component as `/generate`, returns a fixed image."""
    (dep,) = [fn for fn in demo.fns.values() if fn.api_name == "generate"]
    image = generate(None, None, source, label="5", seed=0)  # no request: local mode, this process
    floor = functools.wraps(generate)(lambda *args, **kwargs: image)  # same parameters as /generate
    positional = 2  # the session states (owner, loaded); the controls go by name
    assert dep.input_parameter_names[:positional] == ["owner", "loaded"], dep.input_parameter_names
    by_name = dict(zip(dep.input_parameter_names[positional:], dep.inputs[positional:]))
    with demo:
        gr.Button(visible=False).click(floor, inputs=dep.inputs[:positional], inputs_kwargs=by_name,
                                       outputs=dep.outputs, api_name="floor")


def percentiles(seconds: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(seconds, n=10)
    return statistics.median(seconds) * 1e3, q[8] * 1e3


def forward_ms(source: str, reps: int = 500) -> float:
    g = load_generator(source)
    z, y = torch.randn(1, g.latent_dim), torch.tensor([0])
    times = []
    with torch.inference_mode():
        for i in range(reps + 50):
            start = time.perf_counter()
            g(z, y)
            times.append(time.perf_counter() - start)
    return statistics.median(times[50:]) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--source", default="mnist")
    args = parser.parse_args()
    add_floor(app.demo, args.source)
    app.demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    client = Client(app.demo.local_url, verbose=False)
    times = {"generate": [], "floor": []}
    seeds = itertools.count()
    for i in range(WARMUP + args.calls):
        for name in ("generate", "floor"):  # alternate: same load on both
            start = time.perf_counter()
            client.predict(label="5", seed=next(seeds), checkpoint=args.source, api_name=f"/{name}")
            if i >= WARMUP:
                times[name].append(time.perf_counter() - start)
    app.demo.close()
    (g50, g90), (f50, f90) = percentiles(times["generate"]), percentiles(times["floor"])
    print(f"\n/generate vs do-nothing floor, {args.calls} calls each (alternating), gradio_client, "
          f"torch threads {torch.get_num_threads()}\n")
    print("| endpoint | p50 ms | p90 ms |\n| --- | ---: | ---: |")
    print(f"| /floor (returns a ready image, same size) | {f50:.1f} | {f90:.1f} |")
    print(f"| /generate (label, seed) | {g50:.1f} | {g90:.1f} |")
    print(f"| ratio /generate / /floor | {g50 / f50:.2f} | {g90 / f90:.2f} |")
    print(f"\ngenerator forward, one image ({args.source}): {forward_ms(args.source):.2f} ms (median of 500)")


if __name__ == "__main__":
    main()
