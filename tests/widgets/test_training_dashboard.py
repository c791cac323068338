"""TrainingDashboard: Start trains in a thread with live curves; Stop ends it within seconds."""
import json
import sys
import threading
import time

import pytest
from ipywidgets.embed import embed_data

from labkit import data, models
from labkit.widgets import ModelBuilder, TrainingDashboard
from labkit.widgets.thread_output import routed_to


@pytest.fixture(scope="module")
def splits(tiny_direction):
    return data.split(tiny_direction, (0.75, 0.25), seed=0)


def _model(tiny_config, splits):
    return models.DCRN(tiny_config.replace(num_classes=splits[0].num_classes))


def test_start_trains_and_fills_curves_table_and_log(tiny_config, splits):
    board = TrainingDashboard(_model(tiny_config, splits), *splits, epochs=2, batch_size=16, augment=False,
                              device="cpu", refresh_s=0.0)
    board.start_button.click()
    assert board.running and board.stop_button.disabled is False and board.start_button.disabled
    result = board.wait(120)
    assert not board.running and board.error is None
    assert len(result.history) == 2 and result.stopped is None
    assert list(board.figure.data[0].x) == [1, 2]  # train loss per epoch
    assert len(board.figure.data[4].x) == board.progress.value == board.progress.max  # every batch drawn
    assert board.table.value.count("<tr") == 3  # header + 2 epochs
    assert "epoch 2: loss" in "".join(o["text"] for o in board.output.outputs)
    assert board.status.value.startswith("done") and board.start_button.disabled is False
    json.dumps(embed_data(views=[board])["manager_state"])


def test_stop_ends_a_running_training_within_seconds_and_keeps_the_result(tiny_config, splits):
    board = TrainingDashboard(_model(tiny_config, splits), *splits, epochs=200, batch_size=8, augment=False,
                              device="cpu")
    board.start_button.click()
    deadline = time.perf_counter() + 30
    while board.progress.value < 2 and time.perf_counter() < deadline:  # mid-epoch
        time.sleep(0.05)
    asked = time.perf_counter()
    board.stop_button.click()
    board.wait(10)
    assert not board.running and time.perf_counter() - asked < 5
    assert board.result is not None and "stop" in board.result.stopped
    assert board.status.value.startswith("stopped")
    # Start again continues the same weights; the epoch numbering goes on
    done = len(board.history)
    board.epochs.value = 1
    board.start()
    board.wait(60)
    assert board.history.epoch.tolist()[-1] == done + 1


def test_reset_restores_initial_weights_and_clears(tiny_config, splits):
    model = _model(tiny_config, splits)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    board = TrainingDashboard(model, *splits, epochs=1, batch_size=16, augment=False, device="cpu")
    board.start()
    board.wait(60)
    assert any((before[k] != v).any() for k, v in model.state_dict().items())
    board.reset_button.click()
    assert all((before[k] == v).all() for k, v in model.state_dict().items())
    assert board.history.empty and len(board.figure.data[0].x) == 0 and board.result is None


def test_a_builder_supplies_the_model_and_bad_configs_are_reported(splits):
    builder = ModelBuilder(models.preset_config("default", img_size=32, conv_channels=(8,), hidden_size=8,
                                                head_hidden=0), diagram=False)
    board = TrainingDashboard(builder, *splits, epochs=1, batch_size=16, augment=False, device="cpu")
    builder.controls["padding"].value = 4  # invalid: padding >= kernel
    board.start()
    assert not board.running and "cannot build the model" in board.status.value
    builder.controls["padding"].value = 1
    board.start()
    board.wait(60)
    assert board.model.config.num_classes == splits[0].num_classes and board.result is not None


def test_a_failing_run_shows_its_error_in_the_dashboard(tiny_config, splits):
    wrong = models.DCRN(tiny_config.replace(num_classes=3))  # the data has 8 classes
    board = TrainingDashboard(wrong, *splits, epochs=1, device="cpu")
    board.start()
    board.wait(30)
    assert isinstance(board.error, ValueError) and "training failed" in board.status.value
    assert "num_classes" in "".join(o["text"] for o in board.output.outputs)
    with pytest.raises(TypeError, match="ModelBuilder"):
        TrainingDashboard("seed", *splits)


def test_thread_output_goes_only_to_its_output_widget(capsys):
    import ipywidgets as W

    out = W.Output()

    def work():
        with routed_to(out):
            print("from the thread")

    t = threading.Thread(target=work)
    t.start()
    t.join()
    print("from the main thread")
    assert [o["text"] for o in out.outputs] == ["from the thread", "\n"]
    assert "from the main thread" in capsys.readouterr().out
    assert not type(sys.stdout).__name__ == "_Router"  # real streams restored
