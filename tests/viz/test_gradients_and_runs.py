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
