"""Model anatomy figures from a summary table (shape of `models.summary(...).table`)."""
from types import SimpleNamespace

import pandas as pd
import pytest

from labkit import viz


@pytest.fixture
def table():
    return pd.DataFrame(dict(
        layer=["conv1", "pool1", "flatten", "lstm", "fc", "head"],
        output_shape=[(16, 32, 62, 62), (16, 32, 31, 31), (16, 30752), (64,), (64,), (10,)],
        params=[896, 0, 0, 7_889_152, 4160, 650], flops=[1e8, 1e6, 0, 1.2e8, 8e3, 1.3e3],
        activation_bytes=[1e7, 2e6, 2e6, 256, 256, 40]))


def test_format_count():
    assert viz.format_count(7_894_858) == "7.89 M"
    assert viz.format_count(2048, "B") == "2.05 kB"
    assert viz.format_count(12) == "12"
    assert viz.format_count(None) == "–"


def test_layer_table_rows_and_totals(table):
    fig = viz.layer_table(table)
    cells = fig.data[0].cells.values
    assert list(cells[0]) == [*table.layer, "total"]
    assert cells[2][0] == "16×32×62×62"
    assert cells[3][-1] == "7.89 M"


def test_totals_come_from_the_summary_when_given(table):
    summary = SimpleNamespace(table=table, totals=dict(params=123, flops=456, activation_bytes=789))
    assert viz.layer_table(summary).data[0].cells.values[3][-1] == "123"
    assert "123 parameters" in viz.model_diagram(summary).layout.title.text


def test_diagram_has_params_and_flops_bars(table):
    fig = viz.model_diagram(table)
    assert [t.type for t in fig.data] == ["bar", "bar"]
    assert list(fig.layout.xaxis2.ticktext)[3] == "lstm" and list(fig.data[0].x) == list(range(6))
    assert fig.layout.yaxis.type == "log"


def test_cost_comparison_one_bar_per_config(table):
    small = table.assign(params=table.params // 100)
    fig = viz.cost_comparison({"seed": table, "small": small})
    assert len(fig.data) == 3 and list(fig.data[0].x) == ["seed", "small"]
    assert fig.data[0].y[0] > fig.data[0].y[1]


def test_a_table_without_the_columns_is_refused():
    with pytest.raises(ValueError, match="models.summary"):
        viz.layer_table(pd.DataFrame(dict(layer=["a"])))


def test_the_real_summary_of_the_seed_model():
    from labkit import models

    s = models.summary(models.preset_config("seed"), frames=16)
    cells = viz.layer_table(s).data[0].cells.values
    assert cells[3][-1] == "7.89 M" and cells[1][0].startswith("Conv2d")
    assert len(viz.model_diagram(s).data[0].x) == len(s.table)


def test_order_notes_mark_a_pool_computed_before_its_activation():
    t = pd.DataFrame(dict(layer=["blocks.0.0", "blocks.0.2", "blocks.0.1", "head.0"],
                          type=["Conv2d", "MaxPool2d 2", "relu", "Linear"],
                          output_shape=[(1,), (1,), (1,), (1,)], params=[1, 0, 0, 1], flops=[1, 1, 1, 1]))
    notes = viz.model.order_notes(t)
    assert notes[0] == notes[3] == ""
    assert "runs before blocks.0.1 (relu)" in notes[1] and "runs after blocks.0.2" in notes[2]
    fig = viz.layer_table(t)
    assert fig.data[0].header.values[-1].startswith("note") and "print(model)" in fig.data[0].cells.values[-1][1]
    assert "print(model)" in viz.model_diagram(t).data[0].customdata[1][5]


def test_the_diagram_keeps_the_summary_order_and_labels_bars_with_counts(table):
    fig = viz.model_diagram(table)
    assert list(fig.layout.xaxis2.ticktext) == list(table.layer) and list(fig.layout.xaxis2.tickvals) == list(range(6))
    assert [c[0] for c in fig.data[1].customdata] == list(table.layer)  # the hover names the layer
    assert list(fig.data[0].text) == ["896", "", "", "7.89 M", "4.16 k", "650"]
    assert fig.layout.yaxis.title.text == "parameters" and fig.layout.yaxis2.title.text == "FLOPs"
