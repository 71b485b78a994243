"""`python -m gan.evaluate` on a tiny exported generator, and the metrics callback in a real run."""

import csv
import json
import subprocess
import sys

from conftest import ROOT, TINY_RUN, compose_cfg
from gan.export import export_generator
from gan.train import train


def test_evaluate_cli_prints_table_and_writes_json(tmp_path, tiny_generator):
    folder = export_generator(tiny_generator, tmp_path / "tiny", {"dataset": "mnist"})
    out = subprocess.run([sys.executable, "-m", "gan.evaluate", str(folder), "--per-class", "20"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "| class accuracy |" in out.stdout and "real floor" in out.stdout
    result = json.loads((folder / "metrics.json").read_text())
    assert result["dataset"] == "mnist" and result["per_class"] == 20
    g, real = result["generator"], result["real_floor"]
    assert len(g["fid_per_class"]) == 10 and len(g["class_acc_per_class"]) == 10
    # an untrained generator is far worse than real data on every count
    assert g["fid"] > 10 * real["fid"] and real["class_acc"] > 0.95 and g["recall"] < real["recall"]


def test_training_logs_quality_metrics(tmp_path):
    run = train(compose_cfg(tmp_path, [*TINY_RUN, "logger=csv", "callbacks.metrics.per_class=10"]))
    rows = list(csv.DictReader(open(run / "csv" / "metrics.csv")))
    logged = {k for r in rows for k, v in r.items() if v}
    assert {"val/class_acc", "val/fid", "val/precision", "val/recall"} <= logged
    (record,) = [json.loads(line) for line in (run / "quality.jsonl").read_text().splitlines()]
    assert 0.0 <= record["class_acc"] <= 1.0 and record["fid"] > 0
    card = json.loads((run / "export" / "card.json").read_text())
    assert "val/fid" in card["metrics"]
