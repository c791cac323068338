"""Training curves: loss and accuracy panels, train against validation."""
import numpy as np
import pandas as pd
import pytest

from labkit import viz


@pytest.fixture
def history():
    return pd.DataFrame(dict(epoch=[1, 2, 3], loss=[1.0, 0.8, 0.6], accuracy=[0.3, 0.5, 0.6],
                             val_loss=[1.1, 0.9, 0.7], val_accuracy=[0.3, 0.4, 0.5]))


def test_one_history_gives_train_and_val_in_two_panels(history):
    fig = viz.training_curves(history)
    assert [t.name for t in fig.data] == ["train loss", "val loss", "train accuracy", "val accuracy"]
    assert [t.xaxis for t in fig.data] == ["x", "x", "x2", "x2"]
    assert list(fig.data[3].y) == [0.3, 0.4, 0.5]
    assert fig.data[1].line.dash == "dash"


def test_missing_validation_gives_empty_val_traces(history):
    h = history.assign(val_loss=np.nan, val_accuracy=np.nan)
    fig = viz.training_curves(h)
    assert len(fig.data[1].y) == 0 and len(fig.data[0].y) == 3


def test_runs_overlay_with_a_colour_per_run(history):
    fig = viz.training_curves({"a": history, "b": history.assign(loss=history.loss / 2)})
    assert len(fig.data) == 8
    assert fig.data[0].line.color != fig.data[4].line.color
    assert fig.data[4].name == "b train"


def test_batch_curves_come_last(history):
    batches = pd.DataFrame(dict(step=[0.5, 1.0], loss=[1.2, 1.0], accuracy=[0.2, 0.3]))
    fig = viz.training_curves(history, batches=batches)
    assert [t.name for t in fig.data[4:]] == ["batch loss", "batch accuracy"]
    with pytest.raises(ValueError, match="one history"):
        viz.training_curves({"a": history}, batches=batches)
