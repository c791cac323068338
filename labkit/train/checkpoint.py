"""The two callbacks that keep a run folder up to date; the folder's format is `runs.record`'s."""
from __future__ import annotations

from pathlib import Path

from labkit.runs import record

from .callbacks import Callback
from .state import TrainState


def training_checkpoint(state: TrainState) -> dict:
    """Everything `fit(resume=...)` needs to continue exactly: weights, optimizer, schedule, history."""
    return {
        "epoch": state.epoch,
        "epoch_complete": state.epoch_complete,
        "global_step": state.global_step,
        "model": state.model.state_dict(),
        "optimizer": state.optimizer.state_dict(),
        "scheduler": state.scheduler.state_dict() if state.scheduler is not None else None,
        "scaler": state.scaler.state_dict(),  # {} while loss scaling is off
        "config": state.config,
        "history": record.history_to_dict(state.rows),
        "batches": record.history_to_dict(state.batch_rows, record.BATCH_COLUMNS),
        "best_epoch": state.best_epoch,
        "best_score": state.best_score,
    }


class Checkpoint(Callback):
    """Writes last.pt after every epoch and best.pt whenever the epoch is the best so far."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)

    def on_epoch_end(self, state):
        if state.is_best:
            record.save_atomic({"epoch": state.epoch, "model": state.model.state_dict(), "config": state.config,
                                "metrics": dict(state.rows[-1])}, self.run_dir / record.BEST)
        record.save_atomic(training_checkpoint(state), self.run_dir / record.LAST)


class HistoryLogger(Callback):
    """config.json at the start, history.csv and batches.csv after every epoch, metrics.json at the end."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)

    def on_train_begin(self, state):
        record.write_json_atomic(state.config, self.run_dir / record.CONFIG)

    def on_epoch_end(self, state):
        record.write_text_atomic(state.history.to_csv(index=False), self.run_dir / record.HISTORY)
        record.write_text_atomic(state.batches.to_csv(index=False), self.run_dir / record.BATCHES)

    def on_train_end(self, state):
        record.write_json_atomic(state.metrics, self.run_dir / record.METRICS)
