"""Kernel -> Interrupt (a KeyboardInterrupt) in the calls that train: pretraining and a lesson stop
as `fit` does (test_stopping.py: fit and sweep): the best weights in the model, a consistent,
resumable run folder, then the interrupt raised again so the cell, and Run All, stop too (a
re-run sweep resumes the interrupted run: test_stopping.py)."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

from labkit import lessons, models, train
from labkit.runs import load_checkpoint, record
from labkit.train import Callback
from labkit.train.callbacks import CallbackList

SMALL = dict(img_size=16, conv_channels=(4,), hidden_size=8, head_hidden=8)
KW = dict(batch_size=8, progress=False, device="cpu", threads=1)


class CtrlC(Callback):
    """A KeyboardInterrupt at batch 2 of epoch `epoch`, as a kernel interrupt raises one mid-epoch."""

    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_batch_end(self, state):
        if state.epoch == self.epoch and state.batch == 2:
            raise KeyboardInterrupt


def test_an_interrupted_pretraining_keeps_its_best_body_and_resumes(tmp_path):
    from labkit import data

    unlabelled = data.synthetic("direction", n=24, frames=6, size=16, seed=0)
    model = models.preset("default", num_classes=8, seed=0, **SMALL)
    run = tmp_path / "pre"
    with pytest.raises(KeyboardInterrupt) as stopped:
        train.pretrain(model, unlabelled, "arrow_of_time", epochs=3, run_dir=run, callbacks=[CtrlC(2)], **KW)
    assert isinstance(stopped.value, train.TrainingInterrupted)
    result = stopped.value.result
    assert "interrupted during epoch 2" in result.stopped and len(result.history) == 1
    assert len(pd.read_csv(run / record.HISTORY)) == 1 and load_checkpoint(run / record.LAST)["epoch"] == 1
    best = load_checkpoint(run / record.BEST)["model"]
    body = {k: v for k, v in model.state_dict().items() if not k.startswith("head.")}
    assert all(torch.equal(body[k], best[k]) for k in body)  # the model's body: the best pretext epoch's
    again = train.pretrain(model, unlabelled, "arrow_of_time", epochs=3, resume=run, **KW)
    assert list(again.history["epoch"]) == [1, 2, 3] and again.stopped is None


def test_an_interrupted_lesson_stops_at_once(tmp_path, monkeypatch):
    calls = []
    original = CallbackList.on_batch_end

    def interrupt_once(self, state):  # the first run of the lesson's sweep, two batches in
        original(self, state)
        calls.append(state.run_dir)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(CallbackList, "on_batch_end", interrupt_once)
    with pytest.raises(train.TrainingInterrupted):
        lessons.order_matters(quick=True, root=tmp_path, progress=False)
    started = [p for p in (tmp_path / "order_matters").iterdir() if p.is_dir()]
    assert len(started) == 1 and started[0] == calls[0]  # no later run of the sweep started
    assert "interrupted during epoch 1" in record.read_metrics(started[0])["stopped"]
