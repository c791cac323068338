"""`TrainingDashboard`: start / stop / reset a `train.fit` run and watch it live.

Training runs in a background thread, so the kernel stays responsive and Stop works mid-epoch
(it sets the `stop_event` that `fit` checks after every batch). A `train.Callback` feeds the
live curves (a FigureWidget redrawn at most every `refresh_s` seconds, inside `batch_update`),
the progress bar and the epoch table; whatever the thread prints lands in the dashboard's own
log, never in another cell.

The dashboard's run lives in a run folder (`.run_dir`: under a temporary folder unless
`run_root=` names one). Start after Stop continues that run with `fit(resume=...)`: from the
latest weights with the optimizer's state and the step count, as if it had not stopped. Reset
starts a new run folder from untrained weights.
"""
from __future__ import annotations

import copy
import math
import tempfile
import threading
import time
import traceback
from pathlib import Path

import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go

from labkit.errors import LabkitError, SettingError
from .. import models, train, viz
from ..runs import record
from ..train.optim import OPTIMIZERS
from ..viz.training import epoch_labels, epoch_positions
from .html_table import html_table
from .model_builder import ModelBuilder
from .thread_output import routed_to

TABLE_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "grad_norm", "lr", "seconds", "clips_per_s")
COLUMNS = [*train.HISTORY_COLUMNS, "fraction"]  # `.history`: fit's columns + the share of the epoch that ran
BATCH_SIZES = (4, 8, 16, 32, 64, 128, 256)
SHOWN_EPOCHS = 5  # the epoch table shows the last few; the earlier ones fold away
LR_RANGE, LR_STEP = (-5, 0), 0.25  # the helper slider: 1e-5 .. 1, quarter decades
OWNED = ("stop_event", "run_dir", "resume")  # fit arguments the dashboard sets itself
_ERROR = '<span style="color:#a40000">⚠ {}</span>'


def _same_slider_step(a: float, b: float, step: float = LR_STEP) -> bool:
    """True when a log slider (base 10, `step` decades) puts a and b on the same position: a
    slider snapping a value to its grid (what the browser does once it draws it) changes nothing."""
    return a > 0 and b > 0 and abs(math.log10(a) - math.log10(b)) <= step / 2 + 1e-9


class _Live(train.Callback):
    """Collects per-batch points and per-epoch rows for the dashboard; redraws, throttled."""

    def __init__(self, board: "TrainingDashboard"):
        self.board = board
        self.last_draw = 0.0
        self.first_epoch = 1

    def on_train_begin(self, state):
        self.first_epoch = state.epoch + 1  # > 1 when the run is resumed

    def on_batch_end(self, state):
        b = self.board
        b._batches.append(dict(step=b._trained + state.batch / max(1, state.num_batches),
                               **{k: state.batch_logs.get(k) for k in ("loss", "accuracy")}))
        b.progress.max = max(1, (state.epochs - self.first_epoch + 1) * state.num_batches)
        b.progress.value = min(b.progress.max, (state.epoch - self.first_epoch) * state.num_batches + state.batch)
        b.status.value = (f"training: epoch {state.epoch}/{state.epochs}, batch {state.batch}/{state.num_batches}, "
                          f"loss {state.batch_logs.get('loss', float('nan')):.4f}")
        if time.perf_counter() - self.last_draw >= b.refresh_s:
            self.last_draw = time.perf_counter()
            b._draw(epochs=False)

    def on_epoch_end(self, state):
        b = self.board
        row = dict(state.rows[-1], fraction=1.0 if state.epoch_complete else state.batch / state.num_batches)
        b._rows.append(row)
        b._trained = float(epoch_positions(b.history)[-1])
        val = "" if pd.isna(row.get("val_accuracy")) else f", val_accuracy {row['val_accuracy']:.3f}"
        print(f"epoch {epoch_labels(pd.DataFrame([row]))[0]}: loss {row['loss']:.4f}, "
              f"accuracy {row['accuracy']:.3f}{val}, {row['seconds']:.1f} s")
        self.last_draw = time.perf_counter()
        b._draw()
        b._draw_table()


def _lr_controls(lr: float) -> tuple[W.FloatText, W.FloatLogSlider]:
    """The learning rate as typed (what trains) and a log slider beside it to pick one coarsely."""
    box = W.FloatText(value=lr, description="learning rate", tooltip="exactly the learning rate that trains",
                      style={"description_width": "95px"}, layout=W.Layout(width="200px"))
    slider = W.FloatLogSlider(value=lr, base=10, min=LR_RANGE[0], max=LR_RANGE[1], step=LR_STEP, readout=False,
                              tooltip="drag for a value in quarter decades; the box shows what trains",
                              layout=W.Layout(width="160px"))

    def slider_moved(change):
        if not _same_slider_step(change["new"], box.value):  # a user's drag, not the browser's snapping
            box.value = float(f"{change['new']:.2g}")

    def box_typed(change):
        if change["new"] > 0 and not _same_slider_step(change["new"], slider.value):
            slider.value = min(max(change["new"], 10.0 ** LR_RANGE[0]), 10.0 ** LR_RANGE[1])

    slider.observe(slider_moved, names="value")
    box.observe(box_typed, names="value")
    return box, slider


class TrainingDashboard(W.VBox):
    """Train a model (or the model a ModelBuilder describes) with Start / Stop / Reset buttons.

    TrainingDashboard(model_or_builder, train_ds, val_ds=None, refresh_s=0.3, run_root=None, **fit_kwargs)
    fit_kwargs go to `train.fit` (epochs, batch_size, optimizer, lr, ...); epochs, batch size,
    optimizer and learning rate also get controls. The learning-rate box holds exactly the value
    that trains (the slider beside it only helps to pick one). Each Start trains `epochs` more
    epochs: after a Stop it continues the same run (`fit(resume=...)`: the latest weights, the
    optimizer's state; the curves and the epoch numbering go on); an epoch cut short by Stop is
    marked partial. Reset starts over: the initial weights (or a fresh model from the builder's
    current config) in a new run folder, and empty curves.
    run_root: the folder that keeps the runs (`run-1`, `run-2` after a Reset, ...); None: a
    temporary folder, removed with the dashboard.
    Attributes: `.model`, `.run_dir`, `.result` (last FitResult, kept when stopped), `.history`
    (every epoch shown, DataFrame; `fraction` < 1 marks a partial epoch), `.error` (exception of
    a failed run or None), `.figure` (FigureWidget), `.progress`, `.status`, `.table`, `.output`
    (Output: the run's log), `.epochs`, `.batch_size`, `.optimizer`, `.lr` (FloatText), `.lr_slider`,
    `.start_button`, `.stop_button`, `.reset_button`. Methods: `start()`, `stop()`, `reset()`,
    `settings()` (what Start passes to fit), `wait(timeout=None)`, `running`.
    """

    def __init__(self, model_or_builder, train_ds, val_ds=None, refresh_s: float = 0.3, run_root=None,
                 **fit_kwargs):
        if isinstance(model_or_builder, ModelBuilder):
            self.builder, self.model = model_or_builder, None
        elif isinstance(model_or_builder, models.DCRN):
            self.builder, self.model = None, model_or_builder
        else:
            raise SettingError(f"TrainingDashboard needs a models.DCRN or a widgets.ModelBuilder; "
                               f"got {type(model_or_builder).__name__}")
        owned = [k for k in OWNED if k in fit_kwargs]
        if owned:
            raise LabkitError(f"TrainingDashboard sets {owned} itself (its Stop button and its run folder); leave "
                              f"them out, and pass run_root= to keep its runs in a folder of yours")
        self._initial = copy.deepcopy(self.model.state_dict()) if self.model is not None else None
        self.train_ds, self.val_ds, self.refresh_s = train_ds, val_ds, refresh_s
        self._tmp = tempfile.TemporaryDirectory(prefix="labkit-dashboard-") if run_root is None else None
        self.run_root = Path(self._tmp.name if run_root is None else run_root)
        self.run_dir = self._new_run_dir()
        fit_kwargs["progress"] = False  # the dashboard has its own bar; tqdm's widget would land in another cell
        self.result, self.error, self._thread = None, None, None
        self._stop = threading.Event()
        self._lock = threading.Lock()  # figure/table redraws come from the thread and from reset()
        self._rows: list[dict] = []
        self._batches: list[dict] = []
        self._trained = 0.0  # epochs trained so far (partial epochs count their share)
        self._make_controls(fit_kwargs)
        self.fit_kwargs = fit_kwargs
        self.figure = go.FigureWidget(viz.training_curves(self.history, batches=self._batch_frame()))
        self.table = W.HTML()
        self.output = W.Output(layout=W.Layout(max_height="160px", overflow="auto", border="1px solid #ddd"))
        super().__init__([
            W.HBox([self.epochs, self.batch_size, self.optimizer, self.lr, self.lr_slider]),
            W.HBox([self.start_button, self.stop_button, self.reset_button, self.progress]),
            self.status, self.figure,
            W.Accordion(children=[self.table, self.output], titles=["epochs", "log"], selected_index=0),
        ])
        self.add_class("labkit-training-dashboard")
        self.status.add_class("labkit-training-status")  # for the browser tests and custom CSS
        self.table.add_class("labkit-epoch-table")
        self._draw_table()

    def _make_controls(self, fit_kwargs: dict) -> None:
        """The setting controls (taking their values out of fit_kwargs), buttons, progress, status."""
        style = {"description_width": "80px"}
        self.epochs = W.BoundedIntText(value=fit_kwargs.pop("epochs", 10), min=1, max=10_000, description="epochs",
                                       tooltip="epochs each Start trains (Start again: this many more)",
                                       style=style, layout=W.Layout(width="170px"))
        bs = fit_kwargs.pop("batch_size", 32)
        self.batch_size = W.Dropdown(options=sorted({*BATCH_SIZES, bs}), value=bs, description="batch size",
                                     style=style, layout=W.Layout(width="170px"))
        self.optimizer = W.Dropdown(options=list(OPTIMIZERS), value=fit_kwargs.pop("optimizer", "adam"),
                                    description="optimizer", style=style, layout=W.Layout(width="190px"),
                                    tooltip="fixed for a run (its state carries over); Reset to change it")
        self.lr, self.lr_slider = _lr_controls(fit_kwargs.pop("lr", 1e-3))
        self.start_button = W.Button(description="Start", icon="play", button_style="success",
                                     tooltip="train `epochs` more epochs, continuing the run")
        self.stop_button = W.Button(description="Stop", icon="stop", button_style="danger", disabled=True)
        self.reset_button = W.Button(description="Reset", icon="undo", tooltip="start over: untrained weights")
        self.start_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.stop())
        self.reset_button.on_click(lambda _: self.reset())
        self.progress = W.IntProgress(value=0, min=0, max=1, description="progress", style=style,
                                      layout=W.Layout(width="420px"))
        self.status = W.HTML("ready")

    # ---- buttons --------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def settings(self) -> dict:
        """The settings the next Start passes to `train.fit`: epochs (the run's total after it),
        batch_size, optimizer and lr exactly as the controls show them."""
        return dict(epochs=len(self._rows) + self.epochs.value, batch_size=self.batch_size.value,
                    optimizer=self.optimizer.value, lr=self.lr.value)

    def start(self) -> None:
        """Train `epochs` more epochs in a background thread, continuing the run (if any)."""
        if self.running:
            return
        if self.model is None:
            try:
                self.model = self._build()
            except ValueError as e:
                self.status.value = _ERROR.format(f"cannot build the model: {e}")
                return
        self._stop.clear()
        self.error = None
        resume = (self.run_dir / record.LAST).is_file()
        kwargs = dict(self.fit_kwargs, **self.settings(), stop_event=self._stop,
                      callbacks=[_Live(self), *self.fit_kwargs.get("callbacks", ())],
                      **({"resume": self.run_dir} if resume else {"run_dir": self.run_dir}))
        self._set_running(True)
        self.progress.value = 0
        self.status.value = "continuing the run…" if resume else "starting…"
        self._thread = threading.Thread(target=self._run, args=(kwargs,), name="labkit-training", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask training to end after the current batch (the result so far is kept)."""
        if self.running:
            self._stop.set()
            self.status.value = "stopping after this batch…"

    def reset(self) -> None:
        """Start over: untrained weights (or a fresh model from the builder), a new run folder,
        empty curves."""
        if self.running:
            self.stop()
            self.wait()
        if self.builder is not None:
            try:
                self.model = self._build()
            except ValueError as e:
                self.model = None
                self.status.value = _ERROR.format(f"cannot build the model: {e}")
        else:
            self.model.load_state_dict(self._initial)
        self.result, self.error = None, None
        self._rows, self._batches, self._trained = [], [], 0.0
        self.run_dir = self._new_run_dir()
        self.progress.value = 0
        self.output.clear_output()
        self._draw()
        self._draw_table()
        self._set_running(False)
        if self.model is not None:
            self.status.value = "reset: untrained weights, a new run"

    def wait(self, timeout: float | None = None):
        """Block until the background run ends (for scripts and tests); returns `.result`.
        An interrupt (Ctrl-C, Kernel → Interrupt) while waiting stops the training too."""
        if self._thread is not None:
            try:
                self._thread.join(timeout)
            except KeyboardInterrupt:
                self.stop()
                self._thread.join()
                raise
        return self.result

    @property
    def history(self) -> pd.DataFrame:
        """Every epoch of the run (columns: fit's history + `fraction`, the share of the epoch's
        batches that ran: below 1 for an epoch cut short by Stop)."""
        return pd.DataFrame(self._rows, columns=COLUMNS)

    # ---- the background run -------------------------------------------------------------------
    def _build(self) -> models.DCRN:
        return models.DCRN(self.builder.config.replace(num_classes=self.train_ds.num_classes))

    def _new_run_dir(self) -> Path:
        taken = {p.name for p in self.run_root.glob("run-*")} if self.run_root.is_dir() else set()
        return self.run_root / next(f"run-{i}" for i in range(1, len(taken) + 2) if f"run-{i}" not in taken)

    def _run(self, kwargs) -> None:
        with routed_to(self.output):
            try:
                result = train.fit(self.model, self.train_ds, self.val_ds, **kwargs)
            except Exception as e:  # shown in the dashboard; a thread has nobody else to tell
                self.error = e
                self.status.value = _ERROR.format(f"training failed: {type(e).__name__}: {e}")
                traceback.print_exc()
            else:
                self.result = result
                self.status.value = self._summary(result)
            finally:
                self._draw()
                self._draw_table()
                self._set_running(False)

    def _summary(self, result) -> str:
        """The status line after a run: how it ended, the best epoch, what Start does next."""
        best = "" if result.best_val_accuracy is None else \
            f"; best val_accuracy {result.best_val_accuracy:.3f} (epoch {result.best_epoch})"
        done = f"stopped ({result.stopped})" if result.stopped else "done"
        partial = " (the last one partial)" if self._rows and self._rows[-1]["fraction"] < 1 else ""
        return (f"{done}: {len(result.history)} epoch(s){partial}{best}. The model holds the best weights; "
                f"Start continues the run from the latest ones")

    def _set_running(self, running: bool) -> None:
        self.start_button.disabled = running
        self.stop_button.disabled = not running
        for w in (self.epochs, self.batch_size, self.lr, self.lr_slider):
            w.disabled = running
        self.optimizer.disabled = running or bool(self._rows)  # a run keeps its optimizer (and its state)

    # ---- drawing --------------------------------------------------------------------------------
    def _batch_frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self._batches), columns=["step", "loss", "accuracy"])

    def _draw(self, epochs: bool = True) -> None:
        """Redraw the curves; epochs=False (between epochs) updates only the per-batch lines."""
        with self._lock:
            if not epochs:
                b = self._batch_frame()
                with self.figure.batch_update():
                    for trace, key in zip(self.figure.data[4:], ("loss", "accuracy")):
                        trace.x, trace.y = b.step.tolist(), b[key].tolist()
                return
            fresh = viz.training_curves(self.history, batches=self._batch_frame())
            with self.figure.batch_update():
                for trace, new in zip(self.figure.data, fresh.data):
                    trace.update(x=new.x, y=new.y, text=new.text, marker=new.marker)
                self.figure.layout.xaxis.title.text = fresh.layout.xaxis.title.text
                self.figure.layout.xaxis2.title.text = fresh.layout.xaxis2.title.text

    def _draw_table(self) -> None:
        h = self.history
        if h.empty:
            self.table.value = "<i>no finished epoch yet</i>"
            return
        shown = h[list(TABLE_COLUMNS)].assign(epoch=epoch_labels(h))
        val = shown["val_accuracy"].reset_index(drop=True)
        best = int(val.idxmax()) if val.notna().any() else None
        self.table.value = html_table(shown, highlight=best, show_last=SHOWN_EPOCHS, folded="earlier epochs",
                                      nowrap=("epoch",))
