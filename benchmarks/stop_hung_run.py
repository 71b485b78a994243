"""`/stop_run` on a hung trainer: `python app.py` in public mode, client A starts a run, its
trainer is suspended (SIGSTOP, so it never reads the STOP file), then A calls `/stop_run`
while client B keeps calling `/generate` and `/list_runs`. Times A's call and B's calls before
and during the stop (the stop escalates in the background: SIGTERM after 60 s, SIGKILL 15 s
later; the script kills the trainer itself at the end). B runs in its own process.

    python benchmarks/stop_hung_run.py [--calls 20]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_process import app_process  # noqa: E402

TINY = "model.g_width=8\nmodel.d_width=8\nmodel.latent_dim=8"


def timed(client, calls: int, **kwargs) -> list[float]:
    out = []
    for i in range(calls):
        t0 = time.perf_counter()
        client.predict(**{k: (i if v == "<i>" else v) for k, v in kwargs.items()})
        out.append(time.perf_counter() - t0)
    return out


def visitor(url: str, calls: int, go, results) -> None:
    """Client B: its calls before the stop, then (once `go` is set) during it."""
    from gradio_client import Client

    b = Client(url, verbose=False)
    timed(b, 5, label="1", seed="<i>", api_name="/generate")
    before = timed(b, calls, label="1", seed="<i>", api_name="/generate")
    before_list = timed(b, calls // 2, api_name="/list_runs")
    results.put("ready")
    go.wait()
    during = timed(b, calls, label="1", seed="<i>", api_name="/generate")
    during_list = timed(b, calls // 2, api_name="/list_runs")
    results.put((before, before_list, during, during_list))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=20)
    args = ap.parse_args()
    from gradio_client import Client

    env = {"GAN_PUBLIC": "1", "GAN_SPACE_TRAINING": "1"}
    with tempfile.TemporaryDirectory(prefix="stop-") as tmp, \
            app_process({**env, "GAN_RUNS_DIR": str(Path(tmp) / "runs")}) as (url, _):
        a = Client(url, verbose=False)
        run_id = a.predict(epochs=3, batch_size=16, limit_batches=200, logger="none", overrides=TINY,
                           api_name="/start_run")
        pid = wait_running(a, run_id)
        os.kill(pid, signal.SIGSTOP)  # from here on the trainer uses no CPU: "before" is fair
        ctx = multiprocessing.get_context("spawn")
        go, results = ctx.Event(), ctx.Queue()
        b = ctx.Process(target=visitor, args=(url, args.calls, go, results))
        b.start()
        results.get(timeout=300)  # B measured its "before"
        go.set()
        try:
            t0 = time.perf_counter()
            state = a.predict(run_id=run_id, api_name="/stop_run")["state"]
            stop_s = time.perf_counter() - t0
            before, before_list, during, during_list = results.get(timeout=300)
        finally:
            os.killpg(pid, signal.SIGKILL)
            b.join()
    report(state, stop_s, before, before_list, during, during_list)


def wait_running(client, run_id: str) -> int:
    deadline = time.time() + 300
    while (s := client.predict(run_id=run_id, api_name="/run_status"))["state"] != "running" \
            or s.get("batches_done", 0) < 1:
        if time.time() > deadline:
            raise SystemExit(f"run did not start: {s}")
        time.sleep(0.5)
    return s["pid"]


def report(state, stop_s, before, before_list, during, during_list) -> None:
    print(f"\nA's /stop_run on a SIGSTOPped trainer: returned state '{state}' in {stop_s:.3f} s (bar: 2 s)\n")
    print("| client B | before p50 ms | during the stop p50 ms | ratio |\n|---|---:|---:|---:|")
    for name, x, y in (("/generate", before, during), ("/list_runs", before_list, during_list)):
        p50x, p50y = statistics.median(x), statistics.median(y)
        print(f"| {name} | {p50x * 1e3:.1f} | {p50y * 1e3:.1f} | {p50y / p50x:.2f}x |")


if __name__ == "__main__":
    main()
