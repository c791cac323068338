"""Ending training early: a stop event from another thread, a callback's stop request, Ctrl-C,
and a non-finite loss. Each leaves the best weights in the model and a consistent run folder."""
import json
import threading

import pandas as pd
import pytest
import torch

from labkit import train
from labkit.runs import load_checkpoint
from labkit.train import Callback

FAST = dict(batch_size=8, progress=False, device="cpu", threads=1)  # 1 thread: tiny ops, busy cores


def _same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_stop_event_set_from_another_thread_ends_after_the_current_batch(micro_split, micro_model, tmp_path):
    tr, va = micro_split
    stop = threading.Event()
    batches = []

    class SetFromThread(Callback):
        """On the first batch, have another thread set the event (and wait until it did)."""

        def on_batch_end(self, state):
            batches.append((state.epoch, state.batch))
            if state.epoch == 2 and state.batch == 1:
                t = threading.Thread(target=stop.set)
                t.start()
                t.join()

    result = train.fit(micro_model, tr, va, epochs=5, stop_event=stop, callbacks=[SetFromThread()],
                       run_dir=tmp_path / "run", **FAST)
    # StopOnEvent runs before this callback, so it sees the event at the end of batch 2
    assert batches[-1] == (2, 2)
    assert result.stopped == "stop requested"
    assert len(result.history) == 2  # the cut-short epoch is validated and recorded
    last = load_checkpoint(tmp_path / "run" / "last.pt")
    assert last["epoch"] == 2 and last["epoch_complete"] is False
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["stopped"] == "stop requested"


def test_a_callback_can_request_a_stop(micro_split, micro_model):
    tr, va = micro_split

    class StopAfterFirstEpoch(Callback):
        def on_epoch_end(self, state):
            state.stop_requested = True

    result = train.fit(micro_model, tr, va, epochs=4, callbacks=[StopAfterFirstEpoch()], **FAST)
    assert len(result.history) == 1 and result.stopped == "stop requested"


def test_keyboard_interrupt_keeps_best_weights_and_a_consistent_run_folder(micro_split, micro_model, tmp_path):
    tr, va = micro_split

    class CtrlC(Callback):
        def on_batch_end(self, state):
            if state.epoch == 3 and state.batch == 2:
                raise KeyboardInterrupt

    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt) as stopped:  # re-raised: the cell and what runs it stop too
        train.fit(micro_model, tr, va, epochs=5, lr=1e-2, callbacks=[CtrlC()], run_dir=run, **FAST)
    result = stopped.value.result
    assert isinstance(stopped.value, train.TrainingInterrupted) and "interrupted" in result.stopped
    assert len(result.history) == 2  # the interrupted epoch is dropped
    assert len(pd.read_csv(run / "history.csv")) == 2
    assert load_checkpoint(run / "last.pt")["epoch"] == 2
    best = load_checkpoint(run / "best.pt")
    assert best["epoch"] == result.best_epoch
    assert _same_weights(best["model"], result.model.state_dict())
    assert json.loads((run / "metrics.json").read_text())["stopped"] == result.stopped


def test_non_finite_loss_stops_and_restores_the_last_good_weights(micro_split, micro_model, tmp_path):
    tr, va = micro_split

    class Poison(Callback):
        """Break the weights in the middle of epoch 2: the next batch's loss is NaN."""

        def on_batch_end(self, state):
            if state.epoch == 2 and state.batch == 1:
                with torch.no_grad():
                    state.model.head[-1].weight.fill_(float("nan"))

    with pytest.warns(RuntimeWarning, match="non-finite loss"):
        result = train.fit(micro_model, tr, va, epochs=4, callbacks=[Poison()], run_dir=tmp_path / "run", **FAST)
    assert "non-finite loss" in result.stopped and "epoch 2, batch 2" in result.stopped
    assert "lower lr" in result.stopped
    assert len(result.history) == 1 and result.best_epoch == 1
    assert all(torch.isfinite(p).all() for p in result.model.parameters())
    assert _same_weights(load_checkpoint(tmp_path / "run" / "best.pt")["model"], result.model.state_dict())


def test_non_finite_loss_in_the_first_epoch_restores_the_initial_weights(micro_split, micro_model):
    tr, va = micro_split
    start = {k: v.clone() for k, v in micro_model.state_dict().items()}

    class PoisonFirstBatch(Callback):
        def on_batch_end(self, state):
            with torch.no_grad():
                state.model.head[-1].bias.fill_(float("inf"))

    with pytest.warns(RuntimeWarning, match="start of training"):
        result = train.fit(micro_model, tr, va, epochs=2, callbacks=[PoisonFirstBatch()], **FAST)
    assert result.best_epoch is None and len(result.history) == 0
    assert _same_weights(start, result.model.state_dict())


def test_time_limit_stops_after_the_budget(micro_split, micro_model):
    tr, va = micro_split
    result = train.fit(micro_model, tr, va, epochs=5, callbacks=[train.TimeLimit(0.0)], **FAST)
    assert len(result.history) == 1 and result.stopped.startswith("time limit")


def test_interrupt_in_the_first_epoch_with_progress_bars(micro_split, micro_model, capsys):
    tr, va = micro_split

    class CtrlC(Callback):
        def on_batch_end(self, state):
            raise KeyboardInterrupt

    with pytest.raises(train.TrainingInterrupted) as stopped:
        train.fit(micro_model, tr, va, epochs=2, callbacks=[CtrlC()], **{**FAST, "progress": True})
    result = stopped.value.result
    assert "interrupted" in result.stopped and len(result.history) == 0
    assert "epoch 1/2" in capsys.readouterr().err


def test_an_interrupt_stops_a_sweep_and_the_rerun_resumes_it(micro_split, tmp_path):
    """A loop of runs stops at the interrupt (no silent next run); running the sweep again resumes
    the interrupted run and trains the rest."""
    from labkit import models

    tr, va = micro_split
    seen = []

    class CtrlCOnce(Callback):
        def on_batch_end(self, state):
            if not seen and state.epoch == 2:
                seen.append(state.run_dir.name)
                raise KeyboardInterrupt

    def build(seed):
        return models.preset("default", num_classes=2, img_size=16, conv_channels=(4,), hidden_size=8, seed=seed)

    with pytest.raises(KeyboardInterrupt):
        train.sweep(build, tr, va, {"seed": [0, 1]}, tmp_path / "s", callbacks=[CtrlCOnce()], epochs=3, **FAST)
    assert seen == ["seed=0"] and not (tmp_path / "s" / "seed=1").exists()  # the sweep stopped there
    table = train.sweep(build, tr, va, {"seed": [0, 1]}, tmp_path / "s", callbacks=[CtrlCOnce()], epochs=3, **FAST)
    assert table["epochs"].tolist() == [3, 3] and table["stopped"].isna().all()
