"""TrainingDashboard: Start trains in a thread with live curves; Stop ends it within seconds."""
import json
import sys
import threading
import time

import pandas as pd
import pytest
import torch
from ipywidgets.embed import embed_data

from labkit import data, models, runs, train
from labkit.widgets import ModelBuilder, TrainingDashboard
from labkit.widgets.html_table import html_table
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
    # the epoch cut short is marked partial: in the history, the table and the curves
    h = board.history
    assert 0 < h.fraction.iloc[-1] < 1 and "partial" in board.table.value
    assert board.figure.data[0].marker.symbol[-1] == "circle-open"
    assert board.figure.data[0].x[-1] == pytest.approx(len(h) - 1 + h.fraction.iloc[-1])
    # Start again continues the same run: the latest weights (not the best) and Adam's state
    latest = runs.load(board.run_dir, which="last").state_dict()
    seen = {}

    class Look(train.Callback):
        def on_train_begin(self, state):
            seen["weights"] = {k: v.detach().clone() for k, v in state.model.state_dict().items()}
            seen["adam_steps"] = {int(s["step"]) for s in state.optimizer.state.values()}
            seen["step"] = state.global_step

    done = len(board.history)
    board.fit_kwargs["callbacks"] = [Look()]
    board.epochs.value = 1
    board.start()
    board.wait(60)
    assert board.history.epoch.tolist()[-1] == done + 1
    assert all(torch.equal(seen["weights"][k], v) for k, v in latest.items())
    assert seen["step"] > 0 and seen["adam_steps"] == {seen["step"]}  # the optimizer's state carried over
    assert board.result.history.epoch.tolist() == board.history.epoch.tolist()  # one run, one history
    assert board.optimizer.disabled  # a run keeps its optimizer (its state would not fit another)


def test_the_learning_rate_shown_is_the_one_that_trains(tiny_config, splits):
    used = []

    class Look(train.Callback):
        def on_train_begin(self, state):
            used.append(state.optimizer.param_groups[0]["lr"])

    board = TrainingDashboard(_model(tiny_config, splits), *splits, epochs=1, batch_size=16, augment=False,
                              device="cpu", lr=3e-3, callbacks=[Look()])
    board.lr_slider.value = 10 ** -2.5  # what the browser does once it draws the slider: snap to its grid
    assert board.lr.value == 3e-3 and board.settings()["lr"] == 3e-3
    board.start()
    board.wait(60)
    assert used == [3e-3] and board.history.lr.tolist() == [3e-3]
    board.lr_slider.value = 1e-2  # a real move of the slider sets the box
    assert board.lr.value == 0.01
    board.lr.value = 2e-4  # a typed value stays as typed; the slider follows
    assert board.lr.value == 2e-4 and board.lr_slider.value == pytest.approx(2e-4)
    assert board.settings()["lr"] == 2e-4


def test_the_epoch_table_shows_the_last_epochs_and_folds_the_rest(tiny_config, splits):
    board = TrainingDashboard(_model(tiny_config, splits), *splits, epochs=7, batch_size=32, augment=False,
                              device="cpu")
    board.start()
    board.wait(120)
    assert len(board.history) == 7 and "2 earlier epochs" in board.table.value
    recent = board.table.value.split("</details>")[1]
    assert recent.count("<tr") == 6  # header + the last five epochs


def test_html_table_folds_all_but_the_last_rows():
    df = pd.DataFrame({"epoch": range(1, 9), "loss": [1.0] * 8})
    assert "<details>" not in html_table(df, show_last=8)
    folded = html_table(df, highlight=1, show_last=3, folded="earlier epochs", nowrap=("epoch",))
    earlier, recent = folded.split("</details>")
    assert "5 earlier epochs" in earlier and earlier.count("<tr") == 6 and recent.count("<tr") == 4
    assert "font-weight:bold" in earlier and "font-weight:bold" not in recent
    assert "white-space:nowrap" in folded


def test_reset_restores_initial_weights_and_clears(tiny_config, splits):
    model = _model(tiny_config, splits)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    board = TrainingDashboard(model, *splits, epochs=1, batch_size=16, augment=False, device="cpu")
    board.start()
    board.wait(60)
    assert any((before[k] != v).any() for k, v in model.state_dict().items())
    first_run = board.run_dir
    board.reset_button.click()
    assert all((before[k] == v).all() for k, v in model.state_dict().items())
    assert board.history.empty and len(board.figure.data[0].x) == 0 and board.result is None
    assert board.run_dir != first_run and not board.optimizer.disabled  # a new run starts over
    board.start()
    board.wait(60)
    assert board.history.epoch.tolist() == [1]


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
    with pytest.raises(ValueError, match="run_root="):
        TrainingDashboard(wrong, *splits, run_dir="runs/x")


def test_waiting_is_interruptible_and_stops_the_training(tiny_config, splits, monkeypatch):
    board = TrainingDashboard(_model(tiny_config, splits), *splits, epochs=200, batch_size=8, augment=False,
                              device="cpu")
    board.start()
    joins = []

    def interrupted_join(timeout=None):  # Kernel -> Interrupt while the cell waits
        joins.append(timeout)
        if len(joins) == 1:
            raise KeyboardInterrupt
        return real_join(timeout)

    real_join = board._thread.join
    monkeypatch.setattr(board._thread, "join", interrupted_join)
    with pytest.raises(KeyboardInterrupt):
        board.wait()
    assert not board.running and "stop" in board.result.stopped


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
