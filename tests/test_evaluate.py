"""`python -m gan.evaluate` on a tiny exported generator, and the metrics callback in a real run."""

import csv
import json
import subprocess
import sys

import pytest
import torch

from conftest import ROOT, TINY_RUN, compose_cfg
from gan.datasets import get_dataset
from gan.evaluate import infer_dataset
from gan.evaluate import main as evaluate_main
from gan.export import export_generator
from gan.nets import Generator
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


def test_infer_dataset_compares_class_names_and_shape():
    cifar = list(get_dataset("cifar10").class_names)
    assert infer_dataset([str(i) for i in range(10)], (1, 28, 28)) == "mnist"
    assert infer_dataset(cifar, (3, 32, 32)) == "cifar10"
    assert infer_dataset(cifar, (3, 64, 64)) == "cifar10"  # scored at 32 px after 2x2 pooling
    for names, shape in ((cifar, (1, 32, 32)), (cifar, (3, 48, 48)), ([str(i) for i in range(10)], (3, 28, 28)),
                         (["apple", "banana"], (3, 32, 32))):
        with pytest.raises(ValueError, match="no judge scores this generator"):
            infer_dataset(names, shape)


def test_evaluate_without_a_judge_says_so_and_writes_nothing(tmp_path, capsys):
    g = Generator("conv", latent_dim=8, num_classes=3, img_shape=(3, 16, 16),
                  class_names=["apple", "banana", "cherry"], width=8)
    folder = export_generator(g, tmp_path / "fruit", {"dataset": "image_folder"})
    with pytest.raises(SystemExit, match="gan.evaluate: no judge scores this generator"):
        evaluate_main([str(folder)])
    assert not (folder / "metrics.json").exists()


def test_evaluate_scores_a_colour_generator_at_64_px_with_the_cifar10_judge(tmp_path):
    torch.manual_seed(0)
    g = Generator("conv", latent_dim=8, num_classes=10, img_shape=(3, 64, 64),
                  class_names=list(get_dataset("cifar10").class_names), width=8)
    folder = export_generator(g.eval(), tmp_path / "cifar64", {"dataset": "cifar10"})
    evaluate_main([str(folder), "--per-class", "10"])
    result = json.loads((folder / "metrics.json").read_text())
    assert result["dataset"] == "cifar10" and len(result["generator"]["class_acc_per_class"]) == 10
    gen, real = result["generator"], result["real_floor"]
    assert real["class_acc"] > 0.6 and gen["fid"] > 5 * real["fid"]  # an untrained G is far off
