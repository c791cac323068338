"""`TrainingDashboard`: start / stop / reset a `train.fit` run and watch it live.

Training runs in a background thread, so the kernel stays responsive and Stop works mid-epoch
(it sets the `stop_event` that `fit` checks after every batch). A `train.Callback` feeds the
live curves (a FigureWidget redrawn at most every `refresh_s` seconds, inside `batch_update`),
the progress bar and the epoch table; whatever the thread prints lands in the dashboard's own
log, never in another cell.
"""
from __future__ import annotations

import copy
import threading
import time
import traceback

import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go

from labkit.errors import LabkitError, SettingError
from .. import models, train, viz
from ..train.optim import OPTIMIZERS
from .html_table import html_table
from .model_builder import ModelBuilder
from .thread_output import routed_to

TABLE_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "grad_norm", "lr", "seconds", "clips_per_s")
BATCH_SIZES = (4, 8, 16, 32, 64, 128, 256)


class _Live(train.Callback):
    """Collects per-batch points and per-epoch rows for the dashboard; redraws, throttled."""

    def __init__(self, board: "TrainingDashboard"):
        self.board = board
        self.last_draw = 0.0

    def on_batch_end(self, state):
        b = self.board
        step = b._epoch_offset + state.epoch - 1 + state.batch / max(1, state.num_batches)
        b._batches.append(dict(step=step, **{k: state.batch_logs.get(k) for k in ("loss", "accuracy")}))
        b.progress.max = max(1, state.epochs * state.num_batches)
        b.progress.value = min(b.progress.max, (state.epoch - 1) * state.num_batches + state.batch)
        b.status.value = (f"training: epoch {state.epoch}/{state.epochs}, batch {state.batch}/{state.num_batches}, "
                          f"loss {state.batch_logs.get('loss', float('nan')):.4f}")
        if time.perf_counter() - self.last_draw >= b.refresh_s:
            self.last_draw = time.perf_counter()
            b._draw()

    def on_epoch_end(self, state):
        b = self.board
        row = dict(state.rows[-1])
        row["epoch"] += b._epoch_offset
        b._rows.append(row)
        val = "" if pd.isna(row.get("val_accuracy")) else f", val_accuracy {row['val_accuracy']:.3f}"
        print(f"epoch {row['epoch']}: loss {row['loss']:.4f}, accuracy {row['accuracy']:.3f}{val}, "
              f"{row['seconds']:.1f} s")
        self.last_draw = time.perf_counter()
        b._draw()
        b._draw_table()


class TrainingDashboard(W.VBox):
    """Train a model (or the model a ModelBuilder describes) with Start / Stop / Reset buttons.

    TrainingDashboard(model_or_builder, train_ds, val_ds=None, refresh_s=0.3, **fit_kwargs)
    fit_kwargs go to `train.fit` (epochs, batch_size, optimizer, lr, ...); epochs, batch size,
    optimizer and learning rate also get controls. Start again after Stop continues training the
    same weights (the curves continue); Reset restores the initial weights (or builds a fresh
    model from the builder's current config) and clears the curves.
    Attributes: `.model`, `.result` (last FitResult, kept when stopped), `.history` (every epoch
    shown, DataFrame), `.error` (exception of a failed run or None), `.figure` (FigureWidget),
    `.progress`, `.status`, `.table`, `.output` (Output: the run's log), `.start_button`, `.stop_button`,
    `.reset_button`. Methods: `start()`, `stop()`, `reset()`, `wait(timeout=None)`, `running`.
    """

    def __init__(self, model_or_builder, train_ds, val_ds=None, refresh_s: float = 0.3, **fit_kwargs):
        if isinstance(model_or_builder, ModelBuilder):
            self.builder, self.model = model_or_builder, None
        elif isinstance(model_or_builder, models.DCRN):
            self.builder, self.model = None, model_or_builder
        else:
            raise SettingError(f"TrainingDashboard needs a models.DCRN or a widgets.ModelBuilder; "
                            f"got {type(model_or_builder).__name__}")
        self._initial = copy.deepcopy(self.model.state_dict()) if self.model is not None else None
        self.train_ds, self.val_ds, self.refresh_s = train_ds, val_ds, refresh_s
        fit_kwargs["progress"] = False  # the dashboard has its own bar; tqdm's widget would land in another cell
        if "stop_event" in fit_kwargs:
            raise LabkitError("TrainingDashboard owns stop_event (its Stop button); leave it out")
        self.fit_kwargs = fit_kwargs
        self.result = None
        self.error = None
        self._thread = None
        self._stop = threading.Event()
        self._lock = threading.Lock()  # figure/table redraws come from the thread and from reset()
        self._rows: list[dict] = []
        self._batches: list[dict] = []
        self._epoch_offset = 0

        style = {"description_width": "80px"}
        self.epochs = W.BoundedIntText(value=fit_kwargs.pop("epochs", 10), min=1, max=10_000, description="epochs",
                                       style=style, layout=W.Layout(width="170px"))
        bs = fit_kwargs.pop("batch_size", 32)
        self.batch_size = W.Dropdown(options=sorted({*BATCH_SIZES, bs}), value=bs, description="batch size",
                                     style=style, layout=W.Layout(width="170px"))
        self.optimizer = W.Dropdown(options=list(OPTIMIZERS), value=fit_kwargs.pop("optimizer", "adam"),
                                    description="optimizer", style=style, layout=W.Layout(width="190px"))
        self.lr = W.FloatLogSlider(value=fit_kwargs.pop("lr", 1e-3), base=10, min=-5, max=0, step=0.25,
                                   description="learning rate", readout_format=".1e",
                                   style={"description_width": "95px"})
        self.start_button = W.Button(description="Start", icon="play", button_style="success")
        self.stop_button = W.Button(description="Stop", icon="stop", button_style="danger", disabled=True)
        self.reset_button = W.Button(description="Reset", icon="undo")
        self.start_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.stop())
        self.reset_button.on_click(lambda _: self.reset())
        self.progress = W.IntProgress(value=0, min=0, max=1, description="progress", style=style,
                                      layout=W.Layout(width="420px"))
        self.status = W.HTML("ready")
        self.figure = go.FigureWidget(viz.training_curves(pd.DataFrame(columns=list(TABLE_COLUMNS)),
                                                          batches=pd.DataFrame(columns=["step", "loss", "accuracy"])))
        self.table = W.HTML()
        self.output = W.Output(layout=W.Layout(max_height="160px", overflow="auto", border="1px solid #ddd"))
        super().__init__([
            W.HBox([self.epochs, self.batch_size, self.optimizer, self.lr]),
            W.HBox([self.start_button, self.stop_button, self.reset_button, self.progress]),
            self.status, self.figure,
            W.Accordion(children=[self.table, self.output], titles=["epochs", "log"], selected_index=0),
        ])
        self.add_class("labkit-training-dashboard")

    # ---- buttons --------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Train in a background thread (continuing from the current weights)."""
        if self.running:
            return
        if self.model is None:
            try:
                self.model = self._build()
            except ValueError as e:
                self.status.value = f'<span style="color:#a40000">⚠ cannot build the model: {e}</span>'
                return
        self._stop.clear()
        self.error = None
        self._epoch_offset = len(self._rows)
        kwargs = dict(self.fit_kwargs, epochs=self.epochs.value, batch_size=self.batch_size.value,
                      optimizer=self.optimizer.value, lr=self.lr.value, stop_event=self._stop,
                      callbacks=[_Live(self), *self.fit_kwargs.get("callbacks", ())])
        self._set_running(True)
        self.status.value = "starting…"
        self._thread = threading.Thread(target=self._run, args=(kwargs,), name="labkit-training", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask training to end after the current batch (the result so far is kept)."""
        if self.running:
            self._stop.set()
            self.status.value = "stopping after this batch…"

    def reset(self) -> None:
        """Back to untrained weights (or a fresh model from the builder) and empty curves."""
        if self.running:
            self.stop()
            self.wait()
        if self.builder is not None:
            try:
                self.model = self._build()
            except ValueError as e:
                self.model = None
                self.status.value = f'<span style="color:#a40000">⚠ cannot build the model: {e}</span>'
        else:
            self.model.load_state_dict(self._initial)
        self.result, self.error = None, None
        self._rows, self._batches, self._epoch_offset = [], [], 0
        self.progress.value = 0
        self.output.clear_output()
        self._draw()
        self._draw_table()
        if self.model is not None:
            self.status.value = "reset: untrained weights"

    def wait(self, timeout: float | None = None):
        """Block until the background run ends (for scripts and tests); returns `.result`."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.result

    @property
    def history(self) -> pd.DataFrame:
        """Every epoch shown on the curves (epochs of later Starts continue the numbering)."""
        return pd.DataFrame(self._rows, columns=list(train.HISTORY_COLUMNS))

    # ---- the background run -------------------------------------------------------------------
    def _build(self) -> models.DCRN:
        return models.DCRN(self.builder.config.replace(num_classes=self.train_ds.num_classes))

    def _run(self, kwargs) -> None:
        with routed_to(self.output):
            try:
                result = train.fit(self.model, self.train_ds, self.val_ds, **kwargs)
            except Exception as e:  # shown in the dashboard; a thread has nobody else to tell
                self.error = e
                self.status.value = f'<span style="color:#a40000">⚠ training failed: {type(e).__name__}: {e}</span>'
                traceback.print_exc()
            else:
                self.result = result
                best = "" if result.best_val_accuracy is None else \
                    f"; best val_accuracy {result.best_val_accuracy:.3f} (epoch {result.best_epoch + self._epoch_offset})"
                done = f"stopped ({result.stopped})" if result.stopped else "done"
                self.status.value = f"{done}: {len(result.history)} epoch(s){best}; the model holds the best weights"
            finally:
                self._draw()
                self._draw_table()
                self._set_running(False)

    def _set_running(self, running: bool) -> None:
        self.start_button.disabled = running
        self.stop_button.disabled = not running
        for w in (self.epochs, self.batch_size, self.optimizer, self.lr):
            w.disabled = running

    # ---- drawing --------------------------------------------------------------------------------
    def _draw(self) -> None:
        with self._lock:
            h = self.history
            b = pd.DataFrame(list(self._batches), columns=["step", "loss", "accuracy"])
            series = [(h.epoch, h.loss), (h.epoch, h.val_loss), (h.epoch, h.accuracy), (h.epoch, h.val_accuracy),
                      (b.step, b.loss), (b.step, b.accuracy)]
            with self.figure.batch_update():
                for trace, (x, y) in zip(self.figure.data, series):
                    trace.x, trace.y = x.tolist(), y.tolist()

    def _draw_table(self) -> None:
        h = self.history
        if h.empty:
            self.table.value = "<i>no finished epoch yet</i>"
            return
        shown = h[[c for c in TABLE_COLUMNS if c in h]]
        best = int(shown["val_accuracy"].to_numpy().argmax()) if shown["val_accuracy"].notna().any() else None
        self.table.value = html_table(shown, highlight=best)
