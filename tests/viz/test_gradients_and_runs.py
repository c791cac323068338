"""Gradient flow over time, and runs compared."""
import numpy as np
import pandas as pd
import pytest

from labkit import viz


def test_gradient_flow_overlays_models_on_a_log_axis():
    frames = np.arange(16)
    flows = {"rnn": pd.DataFrame(dict(frame=frames, grad_norm=np.logspace(-8, 0, 16))),
             "lstm": pd.DataFrame(dict(frame=frames, grad_norm=np.full(16, 0.1)))}
    fig = viz.gradient_flow(flows)
    assert [t.name for t in fig.data] == ["rnn", "lstm"]
    assert fig.layout.yaxis.type == "log"
    single = viz.gradient_flow(flows["rnn"].assign(grad_norm=0.0), log=True)
    assert np.isnan(np.asarray(single.data[0].y, float)).all()  # zeros cannot sit on a log axis
    with pytest.raises(ValueError, match="frame, grad_norm"):
        viz.gradient_flow(pd.DataFrame(dict(t=[0], g=[1])))


@pytest.fixture
def table():
    return pd.DataFrame(dict(run=["runs/a", "runs/b", "runs/c"], hidden_size=[16, 32, 64],
                             cell=["gru", "lstm", "rnn"], bidirectional=[False, True, False],
                             best_val_accuracy=[0.5, 0.7, 0.4]))


def test_runs_scatter_groups_by_colour_and_names_runs(table):
    fig = viz.runs_scatter(table, "hidden_size", color="cell")
    assert [t.name for t in fig.data] == ["cell=gru", "cell=lstm", "cell=rnn"]
    assert list(fig.data[1].text) == ["b"]
    assert fig.layout.yaxis.title.text == "best_val_accuracy"
    with pytest.raises(ValueError, match="no column 'lr'"):
        viz.runs_scatter(table, "lr")


def test_runs_parallel_maps_text_columns_to_ticks(table):
    fig = viz.runs_parallel(table, ["hidden_size", "cell", "bidirectional"])
    dims = fig.data[0].dimensions
    assert [d.label for d in dims] == ["hidden_size", "cell", "bidirectional", "best_val_accuracy"]
    assert list(dims[1].ticktext) == ["gru", "lstm", "rnn"] and list(dims[1].values) == [0, 1, 2]
    assert list(dims[2].ticktext) == ["False", "True"]


def test_score_column_prefers_best_val_accuracy(table):
    assert viz.score_column(table) == "best_val_accuracy"
    with pytest.raises(ValueError, match="accuracy column"):
        viz.score_column(table.drop(columns="best_val_accuracy"))


def test_natural_order_of_settings():
    from labkit.viz.runs import natural_categories, natural_key

    assert natural_categories([64, 8, 16, 8]) == [8, 16, 64]
    assert natural_categories([(16, 32), (8, 16), (32, 64)]) == [(8, 16), (16, 32), (32, 64)]
    assert natural_categories(["run10", "run2", None]) == ["run2", "run10", None]
    assert natural_key(3) < natural_key((1,)) < natural_key("a")  # any two values compare


def test_parallel_axes_round_numbers_and_order_tuples_naturally():
    t = pd.DataFrame(dict(run=["a", "b", "c"], conv=[(16, 32), (8, 16), (32, 64)], hidden=[16, 64, 16],
                          best_val_accuracy=[0.94333333, 0.5, 0.71]))
    dims = viz.runs_parallel(t, ["conv", "hidden"]).data[0].dimensions
    assert list(dims[0].ticktext) == ["(8, 16)", "(16, 32)", "(32, 64)"] and list(dims[0].values) == [1, 0, 2]
    assert list(dims[1].tickvals) == [16, 64] and list(dims[1].ticktext) == ["16", "64"]
    assert dims[2].tickformat == ".3~g" and "0.943" in dims[2].ticktext


def test_a_scatter_over_few_values_uses_the_values_not_a_log_axis(table):
    fig = viz.runs_scatter(table.iloc[:2], "hidden_size", log_x=True)
    assert fig.layout.xaxis.type == "category" and list(fig.layout.xaxis.categoryarray) == ["16", "32"]
    many = pd.DataFrame(dict(run=list("abcd"), lr=[1e-4, 1e-3, 1e-2, 1e-1], best_val_accuracy=[0.1, 0.2, 0.3, 0.4]))
    assert viz.runs_scatter(many, "lr", log_x=True).layout.xaxis.type == "log"
    assert viz.runs_scatter(many, "lr").layout.xaxis.type == "linear"
