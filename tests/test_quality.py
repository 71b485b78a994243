"""Quality for people: one labelled set of numbers, the per-class chart, the card's rendering."""

import json
import re

from conftest import ROOT
from gan import quality
from gan.charts import axis_bottom, class_bars, loss_lines
from gan.export import read_card, render_card

MNIST = ROOT / "checkpoints" / "mnist"


def test_an_evaluation_wins_over_training_time_numbers_and_says_how_it_was_measured():
    q = quality.read(MNIST, read_card(MNIST))
    evaluation = json.loads((MNIST / "metrics.json").read_text())
    assert q.title == "Evaluation" and "1,000 samples per class" in q.note and "real floor" in q.note
    names = [name for name, _, _ in q.rows]
    assert names == ["class accuracy", "Frechet distance (judge features)", "precision (k=3)", "recall (k=3)"]
    fid = evaluation["generator"]["fid"] / evaluation["real_floor"]["fid"]
    assert q.rows[1][1].endswith(f"({fid:.1f}x floor)") and q.rows[1][2]
    assert [name for name, _, _ in q.per_class] == [str(i) for i in range(10)]
    assert q.per_class[7][1] == evaluation["generator"]["class_acc_per_class"][7]


def test_training_time_numbers_are_labelled_and_losses_are_not_quality(tmp_path):
    card = {"metrics": {"train/g_loss": 1.3, "train/d_loss": 0.4, "val/fid": 10.8, "val/recall": 0.85}}
    q = quality.read(tmp_path, card)
    assert q.title == "Measured during training" and "not comparable" in q.note
    assert [(n, v) for n, v, _ in q.rows] == [("Frechet distance (judge features)", "10.800"),
                                              ("recall (k=3)", "0.850")]
    assert quality.read(tmp_path, {"metrics": {"train/g_loss": 1.3}}) is None  # losses only: nothing
    assert "not measured yet" in quality.markdown(None)


def test_the_card_shows_facts_as_a_list_and_one_labelled_set_per_kind():
    text = render_card(read_card(MNIST))
    assert "- **command**: python -m gan.train" in text and "| fact |" not in text
    assert text.count("## Evaluation") == 1 and text.count("## Measured during training") == 1
    training = text[text.index("## Measured during training"):]
    assert "not comparable" in training and "gan.evaluate SOURCE --card" not in training
    fashion = render_card(read_card(ROOT / "checkpoints" / "fashion-mnist"))
    assert "g_loss" not in fashion and "d_loss" not in fashion  # its "Metrics" were losses


def test_class_bars_draw_a_bar_and_a_floor_tick_per_class_and_escape_names():
    rows = [("0", 0.995, 0.997), ("<b>1</b>", 0.986, 0.996), ("2", 1.0, 0.99)]
    svg = class_bars(rows)
    assert svg.count("<rect") == 3 and svg.count("<line") == 3 + 3  # 3 floor ticks + 3 grid lines
    assert "<b>" not in svg and "&lt;b&gt;1&lt;/b&gt;: 98.60% (real floor 99.60%)" in svg
    assert len(re.findall('fill="#e8833a"', svg)) == 2  # below their floor: classes 0 and 1
    assert axis_bottom([0.986, 1.0]) == 0.98 and axis_bottom([0.3]) == 0.29


def test_loss_lines_draw_one_line_per_metric_through_every_point():
    rows = [{"batch": b, "value": v, "metric": m} for b in (1, 2, 3) for m, v in (("g", b / 2), ("<d>", 1.0))]
    svg = loss_lines(rows)
    assert svg.count("<polyline") == 2 and "&lt;d&gt;" in svg and "<d>" not in svg
    g_points = re.search(r'points="([^"]+)"', svg).group(1).split()
    assert len(g_points) == 3 and g_points[0].startswith("40.0,") and g_points[-1].startswith("520.0,")
    assert loss_lines([]) == ""


def test_an_evaluation_file_from_elsewhere_cannot_inject_markup_or_break_the_panel(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({"dataset": "<img src=x>", "per_class": "lots"}))
    assert quality.read(tmp_path, {}) is None  # not gan.evaluate's format: nothing shown
    good = json.loads((MNIST / "metrics.json").read_text())
    (tmp_path / "metrics.json").write_text(json.dumps({**good, "dataset": "<img src=x>"}))
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").render(quality.markdown(quality.read(tmp_path, {})))
    assert "<img" not in html and "&lt;img src=x&gt;" in html  # shown as text
    (tmp_path / "metrics.json").write_text(json.dumps({**good, "pad": "x" * 300_000}))
    assert quality.read(tmp_path, {}) is None  # larger than a card may be: ignored
