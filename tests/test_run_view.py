"""What the Train tab shows, from a run folder's files."""

import json

from gan import run_view


def test_progress_line_reads_like_a_person_would_write_it():
    live = {"state": "running", "epoch": 1, "max_epochs": 5, "batches_done": 120, "total_batches": 300,
            "progress": 0.4, "eta_s": 80}
    assert run_view.progress_line(live) == "running · epoch 2/5 · 120/300 batches · 40% · ETA 1m 20s"
    # stopped in epoch 2 of 5: Lightning counts the cut-short epoch as done (epoch 2 in status.json)
    done = {**live, "state": "stopped", "epoch": 2, "message": "stopped on request"}
    assert run_view.progress_line(done) == "stopped · epoch 2/5 · 120/300 batches · 40% · stopped on request"
    early = {"state": "stopped", "epoch": 1, "max_epochs": 2, "batches_done": 16, "total_batches": 200,
             "progress": 0.08}
    assert run_view.progress_line(early).startswith("stopped · epoch 1/2 · 16/200 batches · 8%")
    assert run_view.duration(7385) == "2h 03m" and run_view.duration(None) == "?"


def test_curves_skip_a_half_written_line_and_thin_long_histories(tmp_path):
    lines = [json.dumps({"batches_done": i, "train/g_loss": 1.0 + i, "train/d_loss": 0.5, "train/d_real": 9})
             for i in range(1, 1001)]
    (tmp_path / "metrics.jsonl").write_text("\n".join(lines) + '\n{"batches_done": 10')
    rows = run_view.curve_rows(tmp_path, max_points=100)
    assert {r["metric"] for r in rows} == {"train/g_loss", "train/d_loss"}
    assert len(rows) == 2 * 100 and rows[0] == {"batch": 1, "value": 2.0, "metric": "train/g_loss"}
    assert run_view.curve_rows(tmp_path / "missing") == []


def test_log_tail_and_generate_source(tmp_path):
    (tmp_path / "output.log").write_text("".join(f"line {i}\n" for i in range(100)))
    assert run_view.log_tail(tmp_path / "output.log", lines=2) == "line 98\nline 99\n"
    assert run_view.generate_source({"export": "/r/export", "checkpoint": "/r/last.ckpt"}) == "/r/export"
    assert run_view.generate_source({"export": None, "checkpoint": "/r/last.ckpt"}) == "/r/last.ckpt"
    assert run_view.generate_source({"export": None, "checkpoint": None}) is None
