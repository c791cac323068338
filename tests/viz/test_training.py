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


def test_a_partial_epoch_sits_at_its_share_of_an_epoch_with_an_open_marker(history):
    from labkit.viz.training import epoch_labels, epoch_positions, is_partial

    h = pd.concat([history, pd.DataFrame(dict(epoch=[4], loss=[0.7], accuracy=[0.5], val_loss=[0.8],
                                              val_accuracy=[0.45]))], ignore_index=True)
    assert epoch_positions(h).tolist() == [1, 2, 3, 4]  # no fraction column: every epoch is full
    h["fraction"] = [1.0, 1.0, 0.2, 1.0]  # epoch 3 stopped after 2 of its 10 batches
    assert epoch_positions(h) == pytest.approx([1, 2, 2.2, 3.2])
    assert is_partial(h).tolist() == [False, False, True, False]
    assert epoch_labels(h) == ["1", "2", "3 (partial: 20% of its batches)", "4"]
    fig = viz.training_curves(h)
    assert list(fig.data[0].x) == pytest.approx([1, 2, 2.2, 3.2])
    assert list(fig.data[0].marker.symbol) == ["circle", "circle", "circle-open", "circle"]
    assert "partial" in fig.data[0].text[2] and "partial" in fig.layout.xaxis.title.text
    assert fig.layout.xaxis.title.text != viz.training_curves(history).layout.xaxis.title.text


def test_versus_chance_puts_a_test_accuracy_against_chance_with_its_interval():
    from labkit.viz.training import versus_chance

    at_chance = np.array([[1, 2, 1, 1], [1, 1, 2, 1], [2, 1, 1, 1], [1, 1, 1, 1]])  # 4 of 19 right, 4 classes
    text = versus_chance(at_chance)
    assert "4 of 19 clips" in text and "not distinguishable from chance" in text and "chance 0.26" in text
    learned = np.diag([30, 28, 29, 30]) + 1
    assert "above chance" in versus_chance(pd.DataFrame(learned))
    assert "below chance" in versus_chance(np.array([[0, 50], [0, 0]]))  # always wrong on a one-class set
    with pytest.raises(ValueError, match="confusion"):
        versus_chance(np.zeros((2, 3)))
