"""Training events and the callbacks the lab ships: progress bars, early stopping, stop requests.

The loop in `engine.py` only emits events; everything optional (bars, checkpoints, live plots,
early stopping, stop buttons) is a `Callback`. Checkpoint writing lives in `checkpoint.py`.
"""
from __future__ import annotations

import math
import threading

from labkit.errors import LabkitError
from .state import TrainState


class Callback:
    """Override any of the four events; each receives the loop's `TrainState`."""

    def on_train_begin(self, state: TrainState) -> None: ...

    def on_batch_end(self, state: TrainState) -> None: ...

    def on_epoch_end(self, state: TrainState) -> None: ...

    def on_train_end(self, state: TrainState) -> None: ...


class CallbackList(Callback):
    """Dispatches each event to the callbacks in order."""

    def __init__(self, callbacks):
        self.callbacks = list(callbacks)

    def on_train_begin(self, state):
        for cb in self.callbacks:
            cb.on_train_begin(state)

    def on_batch_end(self, state):
        for cb in self.callbacks:
            cb.on_batch_end(state)

    def on_epoch_end(self, state):
        for cb in self.callbacks:
            cb.on_epoch_end(state)

    def on_train_end(self, state):
        for cb in self.callbacks:
            cb.on_train_end(state)


class ProgressBar(Callback):
    """One tqdm.auto bar per epoch (a widget in Jupyter, text on a terminal's stderr)."""

    def __init__(self):
        self.bar = None

    def on_batch_end(self, state):
        from tqdm.auto import tqdm

        if self.bar is None:
            self.bar = tqdm(total=state.num_batches, desc=f"epoch {state.epoch}/{state.epochs}",
                            unit="batch", leave=True)
        self.bar.set_postfix(loss=f"{state.batch_logs['loss']:.4f}",
                             acc=f"{state.batch_logs['accuracy']:.3f}", refresh=False)
        self.bar.update(1)

    def on_epoch_end(self, state):
        if self.bar is None:
            return
        row = state.rows[-1]
        post = {"loss": f"{row['loss']:.4f}", "acc": f"{row['accuracy']:.3f}"}
        if not math.isnan(row["val_accuracy"]):
            post.update(val_loss=f"{row['val_loss']:.4f}", val_acc=f"{row['val_accuracy']:.3f}")
        self.bar.set_postfix(post, refresh=True)
        self.bar.close()
        self.bar = None

    def on_train_end(self, state):
        if self.bar is not None:  # interrupted mid-epoch: close the bar as it stands
            self.bar.close()
            self.bar = None


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs.

    `monitor` is a history column; "loss"-like columns are minimised, the rest maximised.
    Works from `state.history`, so a resumed run continues counting where it left off.
    """

    def __init__(self, patience: int = 5, monitor: str = "val_accuracy", min_delta: float = 0.0):
        if patience < 1:
            raise LabkitError(f"early_stopping patience={patience}; must be >= 1")
        self.patience, self.monitor, self.min_delta = patience, monitor, min_delta

    def on_epoch_end(self, state):
        values = [r.get(self.monitor, math.nan) for r in state.rows]
        if math.isnan(values[-1]):
            raise LabkitError(f"early stopping monitors {self.monitor!r}, which this run does not record "
                             f"(no validation set?); use EarlyStopping(monitor='loss') or pass val_ds")
        sign = -1.0 if "loss" in self.monitor else 1.0
        best, improved_at = -math.inf, 0
        for i, v in enumerate(values):
            if sign * v > best + self.min_delta:
                best, improved_at = sign * v, i
        if len(values) - 1 - improved_at >= self.patience:
            state.request_stop(f"early stopping: {self.monitor} did not improve for {self.patience} epochs")


class StopOnEvent(Callback):
    """Ends training after the current batch once `event` (a threading.Event) is set.

    A widget's stop button sets the event from another thread.
    """

    def __init__(self, event: threading.Event):
        self.event = event

    def on_batch_end(self, state):
        if self.event.is_set():
            state.request_stop("stop requested")


class TimeLimit(Callback):
    """Stop after `seconds` of training (batches only, validation not counted)."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def on_batch_end(self, state):
        if state.train_seconds() >= self.seconds:
            state.request_stop(f"time limit: {self.seconds:g} s of training")


class StopAtTarget(Callback):
    """Stop once the epoch's `monitor` (a history column) reaches `target`: a time-to-accuracy
    race, or a sweep that need not train on once a run has solved its task."""

    def __init__(self, target: float, monitor: str = "val_accuracy"):
        self.target, self.monitor = target, monitor

    def on_epoch_end(self, state):
        if state.rows[-1].get(self.monitor, float("nan")) >= self.target:
            state.request_stop(f"reached {self.monitor} {self.target:g}")
