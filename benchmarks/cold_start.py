"""Cold start: seconds from launching `python app.py` to the first `/generate` answer.

Each round starts a fresh process (imports, model load, server start), then calls `/generate`
once through gradio_client as soon as the port answers. Prints a markdown table.

    python benchmarks/cold_start.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_process import ROOT, free_port  # noqa: E402


def first_answer_seconds() -> float:
    from gradio_client import Client

    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"app exited with code {proc.returncode}")
            try:
                client = Client(f"http://127.0.0.1:{port}", verbose=False)
                break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.05)
        client.predict(label="5", seed=0, api_name="/generate")
        return time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    times = [first_answer_seconds() for _ in range(args.rounds)]
    print(f"\nCold start of `python app.py` to first /generate answer, {args.rounds} rounds\n")
    print("| median s | min s | max s |\n| ---: | ---: | ---: |")
    print(f"| {statistics.median(times):.1f} | {min(times):.1f} | {max(times):.1f} |")


if __name__ == "__main__":
    main()
