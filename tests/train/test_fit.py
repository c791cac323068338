"""fit(): history, best weights, optimizers/schedules, augmentation, callbacks and early stopping."""
import math

import numpy as np
import pytest
import torch

from labkit import data, train
from labkit.train import Callback, EarlyStopping, HISTORY_COLUMNS

from labkit.train.optim import make_optimizer


FAST = dict(batch_size=8, progress=False, device="cpu", threads=1)  # 1 thread: tiny ops, busy cores


def test_history_and_best_weights(micro_split, micro_model):
    tr, va = micro_split
    result = train.fit(micro_model, tr, va, epochs=3, lr=1e-2, **FAST)
    h = result.history
    assert list(h.columns) == HISTORY_COLUMNS
    assert h["epoch"].tolist() == [1, 2, 3]
    assert h[["loss", "accuracy", "val_loss", "val_accuracy", "grad_norm", "lr", "seconds", "clips_per_s"]].notna().all().all()
    assert ((h["accuracy"] >= 0) & (h["accuracy"] <= 1)).all()
    assert result.best_epoch == int(h.loc[h["val_accuracy"].idxmax(), "epoch"])
    assert result.best_val_accuracy == h["val_accuracy"].max()
    assert result.stopped is None and result.run_dir is None
    # the returned model has the best epoch's weights: its val accuracy is the best one
    ev = train.evaluate(result.model, va, device="cpu")
    assert ev.top1 == pytest.approx(result.best_val_accuracy)


def test_without_validation_best_is_by_training_accuracy(micro_split, micro_model):
    tr, _ = micro_split
    result = train.fit(micro_model, tr, None, epochs=2, **FAST)
    assert result.history["val_accuracy"].isna().all()
    assert result.best_val_accuracy is None
    assert result.best_epoch == int(result.history.loc[result.history["accuracy"].idxmax(), "epoch"])


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_optimizers_train(micro_split, micro_model, optimizer):
    tr, va = micro_split
    before = [p.detach().clone() for p in micro_model.parameters()]
    result = train.fit(micro_model, tr, va, epochs=1, optimizer=optimizer, lr=1e-2, **FAST)
    assert any(not torch.equal(a, b) for a, b in zip(before, result.model.parameters()))
    opt = make_optimizer(micro_model.parameters(), optimizer, lr=0.1)
    assert type(opt) is {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop}[optimizer]
    if optimizer == "sgd":
        assert opt.param_groups[0]["momentum"] == 0.9


def test_unknown_optimizer_and_scheduler_are_refused(micro_split, micro_model):
    tr, va = micro_split
    with pytest.raises(ValueError, match="optimizer='lbfgs'"):
        train.fit(micro_model, tr, va, epochs=1, optimizer="lbfgs", **FAST)
    with pytest.raises(ValueError, match="scheduler='linear'"):
        train.fit(micro_model, tr, va, epochs=1, scheduler="linear", **FAST)


@pytest.mark.parametrize("scheduler", ["cosine", "step", "onecycle"])
def test_schedules_change_the_learning_rate(micro_split, micro_model, scheduler):
    tr, va = micro_split
    h = train.fit(micro_model, tr, va, epochs=3, lr=0.01, scheduler=scheduler, **FAST).history
    lrs = h["lr"].tolist()
    assert lrs[-1] < 0.01 * 0.5, lrs  # all three end well below the peak
    if scheduler == "cosine":
        assert lrs == sorted(lrs, reverse=True)


def test_grad_norm_is_measured_before_clipping(micro_split, micro_model):
    tr, va = micro_split
    before = {k: p.detach().clone() for k, p in micro_model.named_parameters()}
    result = train.fit(micro_model, tr, va, epochs=1, lr=1.0, optimizer="sgd", grad_clip=1e-6, **FAST)
    assert result.history["grad_norm"].iloc[0] > 1e-3  # the unclipped norm is recorded
    after = dict(result.model.named_parameters())
    moved = max((after[k] - before[k]).abs().max().item() for k in before)
    # lr * clipped norm per step bounds each update (momentum at most ~ 1/(1-0.9) over 3 steps)
    assert moved < 1e-4


def test_training_is_augmented_and_validation_never(monkeypatch, micro_split, micro_model):
    tr, va = micro_split
    calls = []
    real = data.make_loader

    def spy(ds, *args, **kwargs):
        calls.append((ds, kwargs.get("transform")))
        return real(ds, *args, **kwargs)

    monkeypatch.setattr(data, "make_loader", spy)
    train.fit(micro_model, tr, va, epochs=1, **FAST)
    assert [d for d, _ in calls] == [tr, va]
    assert callable(calls[0][1]) and calls[1][1] is None
    calls.clear()
    train.fit(micro_model, tr, va, epochs=1, augment=False, **FAST)
    assert calls[0][1] is None and calls[1][1] is None


def test_callback_events_and_state(micro_split, micro_model):
    tr, va = micro_split
    seen = []

    class Recorder(Callback):
        def on_train_begin(self, state):
            seen.append(("begin", state.epochs))

        def on_batch_end(self, state):
            assert set(state.batch_logs) >= {"loss", "accuracy"}
            assert state.model is micro_model
            seen.append(("batch", state.epoch, state.batch, state.num_batches))

        def on_epoch_end(self, state):
            seen.append(("epoch", state.epoch, len(state.history)))

        def on_train_end(self, state):
            seen.append(("end", state.metrics["epochs"]))

    train.fit(micro_model, tr, va, epochs=2, callbacks=[Recorder()], **FAST)
    assert seen[0] == ("begin", 2) and seen[-1] == ("end", 2)
    assert ("batch", 1, 3, 3) in seen and ("epoch", 1, 1) in seen and ("epoch", 2, 2) in seen
    assert len([s for s in seen if s[0] == "batch"]) == 6


def test_early_stopping_stops_when_nothing_improves(micro_split, micro_model):
    tr, va = micro_split
    for m in micro_model.modules():  # lr=0 and frozen batch-norm statistics: validation never changes
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = 0.0
    result = train.fit(micro_model, tr, va, epochs=6, lr=0.0, early_stopping=2, **FAST)
    assert len(result.history) == 3  # best at epoch 1, then 2 epochs without improvement
    assert "early stopping" in result.stopped and result.best_epoch == 1
    result = train.fit(micro_model, tr, None, epochs=6, lr=0.0,
                       callbacks=[EarlyStopping(patience=1, monitor="loss", min_delta=1.0)], **FAST)
    assert len(result.history) == 2


def test_early_stopping_on_a_missing_metric_explains(micro_split, micro_model):
    tr, _ = micro_split
    with pytest.raises(ValueError, match="no validation set"):
        train.fit(micro_model, tr, None, epochs=2, callbacks=[EarlyStopping(1, monitor="val_accuracy")], **FAST)


def test_bad_arguments_name_the_fix(micro_split, micro_model):
    tr, va = micro_split
    with pytest.raises(ValueError, match="epochs=0"):
        train.fit(micro_model, tr, va, epochs=0, **FAST)
    with pytest.raises(ValueError, match="num_classes"):  # 2-class model, 8-class data
        train.fit(micro_model, data.synthetic("direction", n=8, frames=4, size=16), None, epochs=1, **FAST)
    with pytest.raises(ValueError, match="batch_size=0"):
        train.fit(micro_model, tr, va, epochs=1, batch_size=0, progress=False)


def test_bf16_autocast_on_cpu_trains(micro_split, micro_model):
    tr, va = micro_split
    result = train.fit(micro_model, tr, va, epochs=1, precision="bf16", **FAST)
    assert math.isfinite(result.history["loss"].iloc[0])
    assert all(p.dtype is torch.float32 for p in result.model.parameters())  # master weights stay fp32


def test_threads_argument_is_respected_during_fit(micro_split, micro_model):
    tr, va = micro_split
    inside = []

    class Threads(Callback):
        def on_batch_end(self, state):
            inside.append(torch.get_num_threads())

    before = torch.get_num_threads()
    want = 2 if before == 1 else 1
    train.fit(micro_model, tr, va, epochs=1, callbacks=[Threads()], **{**FAST, "threads": want})
    assert set(inside) == {want} and torch.get_num_threads() == before


def test_fit_is_deterministic_for_a_seed(micro_split, micro):
    tr, va = micro_split
    a = train.fit(micro(drop_rate=0.2), tr, va, epochs=2, seed=3, **FAST).model.state_dict()
    b = train.fit(micro(drop_rate=0.2), tr, va, epochs=2, seed=3, **FAST).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    rng_before = torch.get_rng_state()
    train.fit(micro(), tr, va, epochs=1, **FAST)
    assert torch.equal(torch.get_rng_state(), rng_before)  # the caller's rng is left alone


def test_clips_per_s_matches_seconds(micro_split, micro_model):
    tr, va = micro_split
    h = train.fit(micro_model, tr, va, epochs=1, **FAST).history
    assert h["clips_per_s"].iloc[0] == pytest.approx(len(tr) / h["seconds"].iloc[0])
    assert np.isfinite(h["val_seconds"]).all()


def test_loader_workers_give_the_same_training(micro_split, micro):
    tr, va = micro_split
    a = train.fit(micro(), tr, va, epochs=1, **FAST).model.state_dict()
    b = train.fit(micro(), tr, va, epochs=1, workers=1, **FAST).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
