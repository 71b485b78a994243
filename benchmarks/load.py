"""Many visitors at once: N concurrent gradio_client users x M `/generate` calls against `python app.py`.

Starts the real app as a subprocess on a free local port, waits for it, then runs the users in
threads (each its own Client, as separate browsers would be). Prints errors, p50/p90/p99 latency
and throughput as a markdown table.

    python benchmarks/load.py [--users 20] [--calls 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_process import running_app  # noqa: E402


def user(url: str, calls: int, seed0: int, latencies: list, errors: list) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)
    for i in range(calls):
        start = time.perf_counter()
        try:
            client.predict(label=str((seed0 + i) % 10), seed=seed0 * 1000 + i, api_name="/generate")
            latencies.append(time.perf_counter() - start)
        except Exception as e:  # noqa: BLE001 - every failure counts, whatever its kind
            errors.append(repr(e)[:200])


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    with running_app() as url:
        latencies, errors = [], []
        threads = [threading.Thread(target=user, args=(url, args.calls, u, latencies, errors))
                   for u in range(args.users)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
    ms = [x * 1000 for x in latencies]
    print(f"\n{args.users} users x {args.calls} /generate calls against `python app.py`\n")
    print("| calls | errors | p50 ms | p90 ms | p99 ms | throughput calls/s |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| {len(ms) + len(errors)} | {len(errors)} | {percentile(ms, 50):.0f} | {percentile(ms, 90):.0f} | "
          f"{percentile(ms, 99):.0f} | {len(ms) / wall:.1f} |")
    for e in sorted(set(errors))[:5]:
        print("error:", e)


if __name__ == "__main__":
    main()
