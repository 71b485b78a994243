"""Memory and latency under hostile checkpoints: `python app.py`'s RSS before and after 20
`/load_checkpoint` calls whose config.json asks for latent 120000, a 100000 x 100000 image or
1e9 classes (each must be refused), how long each refusal takes, and `/generate` latency of
another client before and during the hostile loads.

The app runs in local mode so that a local folder reaches the config check (public mode
refuses the path before reading anything). The attacker is its own process, as it would be
another machine, so the visitor's timings measure the server. Prints markdown tables.

    python benchmarks/hostile_memory.py [--loads 20] [--calls 40]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_process import ROOT, app_process, rss_mb  # noqa: E402

HOSTILE = {"latent 120000": {"latent_dim": 120000},
           "image 100000 x 100000": {"img_shape": [1, 100000, 100000]},
           "1e9 classes": {"num_classes": 10**9, "class_names": None}}


def hostile_folders(tmp: Path) -> list[Path]:
    base = json.loads((ROOT / "checkpoints" / "mnist" / "config.json").read_text())
    folders = []
    for i, changes in enumerate(HOSTILE.values()):
        folder = tmp / f"hostile{i}"
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({**base, **changes}))
        shutil.copy(ROOT / "checkpoints" / "mnist" / "model.safetensors", folder)
        folders.append(folder)
    return folders


def generate_times(client, calls: int, stop: threading.Event | None = None) -> list[float]:
    out = []
    for i in range(calls):
        if stop is not None and stop.is_set():
            break
        t0 = time.perf_counter()
        client.predict(label="7", seed=i, api_name="/generate")
        out.append(time.perf_counter() - t0)
    return out


def attack(url: str, folders: list[Path], loads: int, results) -> None:
    from gradio_client import Client

    results.put(hostile_loads(Client(url, verbose=False), folders, loads))


def hostile_loads(client, folders: list[Path], loads: int) -> list[tuple[str, float, str]]:
    out = []
    names = list(HOSTILE)
    for i in range(loads):
        t0 = time.perf_counter()
        try:
            client.predict(source=str(folders[i % 3]), api_name="/load_checkpoint")
            verdict = "LOADED (not refused!)"
        except Exception as e:  # noqa: BLE001 - the refusal is what we time
            verdict = str(e).split("(", 1)[-1].rstrip(")")[:70]
        out.append((names[i % 3], time.perf_counter() - t0, verdict))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loads", type=int, default=20)
    ap.add_argument("--calls", type=int, default=40)
    args = ap.parse_args()
    from gradio_client import Client

    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp, \
            app_process({"GAN_RUNS_DIR": str(Path(tmp) / "runs")}) as (url, proc):
        folders = hostile_folders(Path(tmp))
        visitor = Client(url, verbose=False)
        generate_times(visitor, 5)  # warm up
        before = generate_times(visitor, args.calls)
        rss_before = rss_mb(proc.pid)
        stop, during = threading.Event(), []
        worker = threading.Thread(target=lambda: during.extend(generate_times(visitor, 10**6, stop)))
        results = multiprocessing.get_context("spawn").Queue()
        attacker = multiprocessing.get_context("spawn").Process(
            target=attack, args=(url, folders, args.loads, results))
        attacker.start()
        worker.start()
        loads = results.get(timeout=600)
        stop.set()
        worker.join()
        attacker.join()
        time.sleep(1)
        rss_after = rss_mb(proc.pid)
    report(loads, before, during, rss_before, rss_after)


def report(loads, before, during, rss_before, rss_after) -> None:
    print(f"\n{len(loads)} hostile /load_checkpoint calls (local mode, folder sources)\n")
    print("| config | calls | refused | p50 s | max s | message |\n|---|---:|---:|---:|---:|---|")
    for name in HOSTILE:
        rows = [r for r in loads if r[0] == name]
        secs = [r[1] for r in rows]
        refused = sum("not refused" not in r[2] for r in rows)
        print(f"| {name} | {len(rows)} | {refused} | {statistics.median(secs):.3f} | {max(secs):.3f} "
              f"| {rows[0][2]} |")
    print(f"\n| RSS before MB | RSS after MB | growth MB |\n|---:|---:|---:|\n"
          f"| {rss_before:.0f} | {rss_after:.0f} | {rss_after - rss_before:+.0f} |")
    p50_before, p50_during = statistics.median(before), statistics.median(during)
    print(f"\n| /generate | calls | p50 ms |\n|---|---:|---:|\n| before | {len(before)} | "
          f"{p50_before * 1e3:.1f} |\n| during the hostile loads | {len(during)} | {p50_during * 1e3:.1f} |")
    print(f"\np50 ratio during / before: {p50_during / p50_before:.2f}x (bar: 1.5x); "
          f"slowest refusal {max(r[1] for r in loads):.3f} s (bar: 0.5 s); "
          f"RSS growth {rss_after - rss_before:+.0f} MB (bar: 150 MB)")


if __name__ == "__main__":
    main()
