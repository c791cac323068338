"""What callbacks see during training (`TrainState`) and what `fit` returns (`FitResult`)."""
from __future__ import annotations

from dataclasses import dataclass, field
import time
from pathlib import Path

import pandas as pd
import torch

from labkit.runs.record import BATCH_COLUMNS, HISTORY_COLUMNS

from .distributed import DistContext


@dataclass
class TrainState:
    """The training loop's state, handed to every callback event.

    `epoch` and `batch` count from 1; `batch_logs` holds the last batch's loss/accuracy;
    `history` is the per-epoch table so far. Setting `stop_requested = True` (optionally with a
    `stop_reason`) ends training after the current batch.
    """

    model: torch.nn.Module
    epochs: int
    optimizer: torch.optim.Optimizer
    scheduler: object | None
    scaler: torch.amp.GradScaler  # enabled for fp16 only
    config: dict
    dist: DistContext
    run_dir: Path | None = None
    monitor: str = "val_accuracy"
    epoch: int = 0
    batch: int = 0
    num_batches: int = 0
    global_step: int = 0
    batch_logs: dict = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)
    batch_rows: list[dict] = field(default_factory=list)  # one per update (BATCH_COLUMNS), all epochs
    stop_requested: bool = False
    stop_reason: str | None = None
    best_epoch: int | None = None
    best_score: float | None = None
    is_best: bool = False  # the epoch that just ended is the best so far
    epoch_complete: bool = True  # False when the last epoch was cut short by a stop request
    epoch_started: float = 0.0  # time.perf_counter() when this epoch's first batch began
    metrics: dict = field(default_factory=dict)  # final metrics, filled just before on_train_end

    @property
    def history(self) -> pd.DataFrame:
        """Per-epoch metrics so far, one row per epoch (columns: HISTORY_COLUMNS)."""
        return pd.DataFrame(self.rows, columns=HISTORY_COLUMNS)

    @property
    def batches(self) -> pd.DataFrame:
        """Per-update metrics so far, one row per batch (columns BATCH_COLUMNS)."""
        return pd.DataFrame(self.batch_rows, columns=BATCH_COLUMNS)

    def train_seconds(self) -> float:
        """Seconds spent on training batches so far (finished epochs + the running one)."""
        done = sum(r["seconds"] for r in self.rows)
        running = not self.rows or self.rows[-1]["epoch"] < self.epoch  # an epoch is under way
        return done + (time.perf_counter() - self.epoch_started if running and self.epoch_started else 0.0)

    def request_stop(self, reason: str) -> None:
        """Ask the loop to stop after the current batch; the first reason given is kept."""
        self.stop_requested = True
        self.stop_reason = self.stop_reason or reason


@dataclass
class FitResult:
    """`fit`'s outcome: per-epoch `history`, the best epoch, the model with its best weights."""

    history: pd.DataFrame
    best_epoch: int | None
    best_val_accuracy: float | None
    model: torch.nn.Module
    run_dir: Path | None
    stopped: str | None  # None when all epochs ran; else why training ended early
    metrics: dict  # final metrics, as written to metrics.json and printed by the CLI

    def __repr__(self) -> str:
        return (f"FitResult(epochs={len(self.history)}, best_epoch={self.best_epoch}, "
                f"best_val_accuracy={self.best_val_accuracy}, stopped={self.stopped!r}, run_dir={self.run_dir})")


class TrainingInterrupted(KeyboardInterrupt):
    """Raised by `fit` after Ctrl-C / a kernel interrupt, once the best weights are in the model
    and the run folder is consistent; `.result` is the FitResult so far. A KeyboardInterrupt,
    so a notebook cell (and Run All), a loop or a sweep around `fit` stops as well."""

    def __init__(self, result: FitResult):
        super().__init__(f"training interrupted: {result.stopped}")
        self.result = result
