"""`/generate` latency through gradio_client: app idle vs while a training run trains.

Launches the real app (gan.ui.build_app) with a fresh runs folder, makes a generator with a tiny
run started through `/start_run`, then times `/generate` calls: first idle, then while a full
size run (conv, batch 64, whole epochs) trains in its own process, then idle again after
stopping it (the two idle rounds bracket drift in background load).
The trainer runs as `gan.runs` starts it: niceness $GAN_TRAIN_NICE (default 10) and
$GAN_TRAIN_THREADS torch threads (default half the cores); set them to compare.

    python benchmarks/generate_while_training.py [--calls 40] [--warmup 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TINY = "model.g_width=8\nmodel.d_width=8\nmodel.latent_dim=8"


def wait(client, run_id: str, done, timeout_s: float = 600.0) -> dict:
    deadline = time.time() + timeout_s
    while not done(status := client.predict(run_id=run_id, api_name="/run_status")):
        if time.time() > deadline or status["state"] in ("failed", "stopped"):
            raise SystemExit(f"run {run_id} did not get there: {status}")
        time.sleep(1)
    return status


def latencies(client, checkpoint: str, calls: int, warmup: int) -> list[float]:
    out = []
    for i in range(warmup + calls):
        t0 = time.perf_counter()
        client.predict(label="7", seed=i, checkpoint=checkpoint, api_name="/generate")
        out.append(time.perf_counter() - t0)
    return out[warmup:]


def row(name: str, seconds: list[float]) -> str:
    q = statistics.quantiles(seconds, n=10)
    return f"| {name:<16} | {len(seconds):>5} | {statistics.median(seconds) * 1e3:>8.1f} | {q[-1] * 1e3:>8.1f} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-runs-") as root:
        os.environ["GAN_RUNS_DIR"] = root
        run(args)


def run(args) -> None:
    from gradio_client import Client

    from gan.ui import build_app

    demo = build_app()
    demo.queue().launch(prevent_thread_lock=True, quiet=True)
    client = Client(demo.local_url, verbose=False)
    if "/generate" not in client.view_api(return_format="dict", print_info=False)["named_endpoints"]:
        raise SystemExit("this app has no /generate endpoint (the Generate tab is not merged yet)")
    try:
        measure(client, args)
    finally:
        demo.close()


def measure(client, args) -> None:
    tiny = client.predict(epochs=1, batch_size=32, limit_batches=4, logger="none", overrides=TINY,
                          api_name="/start_run")
    export = wait(client, tiny, lambda s: s["state"] == "finished")["export"]
    idle = latencies(client, export, args.calls, args.warmup)
    big = client.predict(epochs=5, batch_size=64, logger="none", api_name="/start_run")
    try:
        wait(client, big, lambda s: s["state"] == "running" and s.get("batches_done", 0) > 0)
        busy = latencies(client, export, args.calls, args.warmup)
        trained = client.predict(run_id=big, api_name="/run_status")["batches_done"]
    finally:
        client.predict(run_id=big, api_name="/stop_run")
    after = latencies(client, export, args.calls, args.warmup)  # brackets drift in background load
    print(f"trainer: nice {os.environ.get('GAN_TRAIN_NICE', '10')}, "
          f"{os.environ.get('GAN_TRAIN_THREADS') or max(1, (os.cpu_count() or 2) // 2)} torch threads, "
          f"{os.cpu_count()} cores; it trained {trained} batches of 64 during the busy calls\n")
    print("| condition        | calls | p50 (ms) | p90 (ms) |\n|---|---:|---:|---:|")
    print(row("idle", idle))
    print(row("while training", busy))
    print(row("idle again", after))
    ratio = statistics.median(busy) / statistics.median(idle + after)
    print(f"\np50 ratio, training / idle (both idle rounds): {ratio:.2f}x")


if __name__ == "__main__":
    main()
