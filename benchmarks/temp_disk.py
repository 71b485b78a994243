"""Disk used by the app's per-call files over many `/interpolate` calls: `python app.py` with
its own `GRADIO_TEMP_DIR`, N calls with distinct seeds (every GIF is new), and the size of that
folder (Gradio's cache, holding the bounded GIF folder) every N/10 calls. The client does not
download the GIFs, so only the app's files are counted. Prints a markdown table.

    python benchmarks/temp_disk.py [--calls 1000] [--layout "grid of the class"]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from app_process import app_process  # noqa: E402

from gan.limits import GIF_BYTES, GIF_FILES  # noqa: E402


def usage(folder: Path) -> tuple[int, float]:
    """(files, MB) under `folder`."""
    files = [Path(d) / f for d, _, names in os.walk(folder) for f in names]
    return len(files), sum(f.stat().st_size for f in files if f.exists()) / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--layout", default="grid of the class")
    args = ap.parse_args()
    from gradio_client import Client

    with tempfile.TemporaryDirectory(prefix="temp-disk-") as tmp:
        temp = Path(tmp) / "gradio"
        with app_process({"GRADIO_TEMP_DIR": str(temp), "GAN_RUNS_DIR": str(Path(tmp) / "runs")}) as (url, _):
            client = Client(url, verbose=False, download_files=False)
            print(f"\n{args.calls} /interpolate calls ({args.layout}); GIF folder bound: {GIF_FILES} files, "
                  f"{GIF_BYTES / 2**20:.0f} MB\n")
            print("| calls | files in GRADIO_TEMP_DIR | MB | GIF folder MB | s |\n|---:|---:|---:|---:|---:|")
            t0, peak = time.perf_counter(), 0.0
            for i in range(1, args.calls + 1):
                client.predict(label="3", seed=i, label_b="8", seed_b=i + 1, layout=args.layout,
                               api_name="/interpolate")
                if i % max(1, args.calls // 10) == 0:
                    files, mb = usage(temp)
                    peak = max(peak, mb)
                    gifs = usage(temp / "cgan-studio-gifs")[1]
                    print(f"| {i} | {files} | {mb:.1f} | {gifs:.1f} | {time.perf_counter() - t0:.0f} |")
    print(f"\npeak {peak:.1f} MB of per-call files after {args.calls} calls")


if __name__ == "__main__":
    main()
