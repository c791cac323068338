"""Run folders on disk: atomic writes, checkpoints loadable with `weights_only=True`, and the two
callbacks that keep a run folder up to date (`Checkpoint`, `HistoryLogger`).

A run folder holds config.json, history.csv, metrics.json, best.pt and last.pt. Every file is
written to a temporary name and renamed into place, so a crash never leaves half a file under
a real name. Checkpoints hold only tensors and plain containers (dicts, lists, numbers, strings).
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import torch

from .callbacks import Callback
from .state import HISTORY_COLUMNS, TrainState

CONFIG, HISTORY, METRICS, BEST, LAST = "config.json", "history.csv", "metrics.json", "best.pt", "last.pt"
RUN_FILES = (CONFIG, HISTORY, METRICS, BEST, LAST)


def _replace_atomically(path: Path, write) -> None:
    """Call write(file object) on a temp file next to `path`, fsync it, then rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_atomic(obj, path: Path) -> None:
    """torch.save(obj) to `path` atomically."""
    _replace_atomically(path, lambda f: torch.save(obj, f))


def write_text_atomic(text: str, path: Path) -> None:
    """Write `text` (utf-8) to `path` atomically."""
    _replace_atomically(path, lambda f: f.write(text.encode()))


def json_ready(value):
    """NaN/inf are not JSON: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value


def write_json_atomic(obj: dict, path: Path) -> None:
    write_text_atomic(json.dumps(json_ready(obj), indent=2, default=str) + "\n", path)


def load_checkpoint(path: Path, map_location="cpu") -> dict:
    """Load a checkpoint written by this module (weights_only=True: no code runs on load)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist; is {path.parent} a labkit run folder?")
    return torch.load(path, map_location=map_location, weights_only=True)


def history_to_dict(rows: list[dict]) -> dict[str, list]:
    """Per-epoch rows -> {column: [values]} (the checkpoint's plain-container form)."""
    return {c: [float(r[c]) for r in rows] for c in HISTORY_COLUMNS}


def history_from_dict(d: dict[str, list]) -> list[dict]:
    """Inverse of `history_to_dict`; epochs come back as ints."""
    rows = [dict(zip(d, values)) for values in zip(*d.values())]
    for r in rows:
        r["epoch"] = int(r["epoch"])
    return rows


def training_checkpoint(state: TrainState) -> dict:
    """Everything `fit(resume=...)` needs to continue exactly: weights, optimizer, schedule, history."""
    return {
        "epoch": state.epoch,
        "epoch_complete": state.epoch_complete,
        "global_step": state.global_step,
        "model": state.model.state_dict(),
        "optimizer": state.optimizer.state_dict(),
        "scheduler": state.scheduler.state_dict() if state.scheduler is not None else None,
        "scaler": state.scaler.state_dict() if state.scaler is not None else None,
        "config": state.config,
        "history": history_to_dict(state.rows),
        "best_epoch": state.best_epoch,
        "best_score": state.best_score,
    }


class Checkpoint(Callback):
    """Writes last.pt after every epoch and best.pt whenever the epoch is the best so far."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)

    def on_epoch_end(self, state):
        if state.is_best:
            save_atomic({"epoch": state.epoch, "model": state.model.state_dict(), "config": state.config,
                         "metrics": dict(state.rows[-1])}, self.run_dir / BEST)
        save_atomic(training_checkpoint(state), self.run_dir / LAST)


class HistoryLogger(Callback):
    """config.json at the start, history.csv after every epoch, metrics.json at the end."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)

    def on_train_begin(self, state):
        write_json_atomic(state.config, self.run_dir / CONFIG)

    def on_epoch_end(self, state):
        write_text_atomic(state.history.to_csv(index=False), self.run_dir / HISTORY)

    def on_train_end(self, state):
        write_json_atomic(state.metrics, self.run_dir / METRICS)

