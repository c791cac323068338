"""The run record: what a run folder holds, how it is written and how it is read back.

A run folder holds config.json (model, training and data settings, the data recipes),
history.csv (one row per epoch), batches.csv (one row per update: loss, accuracy, gradient
norm, lr), metrics.json (the final metrics), best.pt and last.pt. Every
file is written to a temporary name and renamed into place, so a crash never leaves half a file
under a real name. Checkpoints hold only tensors and plain containers and are loaded with
`weights_only=True` (no code runs on load). A folder has one writer at a time (`writer_lock`).
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import math
import os
import socket
from pathlib import Path

import pandas as pd
import torch

from labkit.errors import MissingPathError, RunError

CONFIG, HISTORY, BATCHES, METRICS = "config.json", "history.csv", "batches.csv", "metrics.json"
BEST, LAST = "best.pt", "last.pt"
RUN_FILES = (CONFIG, HISTORY, BATCHES, METRICS, BEST, LAST)
WRITER = ".writer"  # who holds the writer lock, while they hold it
BATCH_COLUMNS = ["epoch", "batch", "step", "loss", "accuracy", "grad_norm", "lr"]  # step: updates so far
HISTORY_COLUMNS = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "grad_norm", "lr",
                   "seconds", "clips_per_s", "val_seconds"]
FINAL_COLUMNS = ("loss", "accuracy", "val_loss", "val_accuracy")  # metrics.json holds final_<column>


# ---- writing --------------------------------------------------------------------------------
def _replace_atomically(path: Path, write) -> None:
    """Call write(file object) on a temp file next to `path`, fsync it, then rename it over `path`.

    A failure (a full disk, a lost mount) leaves the old file as it was and raises a RunError
    naming the file; the temp file never stays behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        why = "the disk is full" if e.errno == errno.ENOSPC else e.strerror or str(e)
        raise RunError(f"{path}: could not be written ({why}); the previous version is kept. Fix: free space "
                       f"(or fix the folder's permissions), then continue the run with resume") from e
    finally:
        tmp.unlink(missing_ok=True)


def save_atomic(obj, path: Path) -> None:
    """torch.save(obj) to `path` atomically."""
    _replace_atomically(path, lambda f: torch.save(obj, f))


def write_text_atomic(text: str, path: Path) -> None:
    """Write `text` (utf-8) to `path` atomically."""
    _replace_atomically(path, lambda f: f.write(text.encode()))


def json_ready(value):
    """NaN/inf are not JSON: they become null (recursively through dicts and lists)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value


def write_json_atomic(obj: dict, path: Path) -> None:
    write_text_atomic(json.dumps(json_ready(obj), indent=2, default=str) + "\n", path)


@contextlib.contextmanager
def writer_lock(run_dir):
    """Hold the run folder's writer lock for the block: a second writer (another process, or
    another `fit` in this one) is refused with a RunError naming the owner's process id.

    The lock is an advisory `flock` on the folder itself, released by the kernel when the
    process ends, so a killed run never leaves a stale lock; the owner's pid is written to
    `.writer` for the message and removed at the end. Temp files a killed writer left behind
    are deleted once the lock is held (nobody else can be writing them).
    """
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise RunError(f"{run_dir} is a file, not a run folder; choose a folder name for the run")
    run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(run_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            owner = (run_dir / WRITER).read_text().strip() if (run_dir / WRITER).is_file() else "another process"
            raise RunError(f"run folder {run_dir} is being written by {owner}; wait for that run to finish, "
                           f"stop it, or choose another folder") from None
        for stale in run_dir.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
        (run_dir / WRITER).write_text(f"process {os.getpid()} on {socket.gethostname()}\n")
        try:
            yield run_dir
        finally:
            (run_dir / WRITER).unlink(missing_ok=True)
    finally:
        os.close(fd)  # closing the descriptor releases the lock


# ---- the history and the final metrics --------------------------------------------------------
def history_to_dict(rows: list[dict], columns=HISTORY_COLUMNS) -> dict[str, list]:
    """Per-epoch (or per-batch, with BATCH_COLUMNS) rows -> {column: [values]}, the checkpoint's
    plain-container form."""
    return {c: [float(r[c]) for r in rows] for c in columns}


def history_from_dict(d: dict[str, list]) -> list[dict]:
    """Inverse of `history_to_dict`; epoch (batch, step) counters come back as ints."""
    rows = [dict(zip(d, values)) for values in zip(*d.values())]
    for r in rows:
        for key in ("epoch", "batch", "step"):
            if key in r:
                r[key] = int(r[key])
    return rows


def final_metrics(rows: list[dict], best_epoch: int | None = None, stopped: str | None = None) -> dict:
    """metrics.json from per-epoch rows: epochs, best_epoch, best_val_accuracy (None without a
    validation set), final_<loss, accuracy, val_loss, val_accuracy>, train_seconds, stopped."""
    last = rows[-1] if rows else {}
    best = next((r for r in rows if r["epoch"] == best_epoch), {})
    best_val = best.get("val_accuracy")
    return {"epochs": len(rows), "best_epoch": best_epoch,
            "best_val_accuracy": None if best_val is None or math.isnan(best_val) else best_val,
            **{f"final_{k}": last.get(k) for k in FINAL_COLUMNS},
            "train_seconds": sum(r["seconds"] for r in rows), "stopped": stopped}


# ---- reading ----------------------------------------------------------------------------------
def _existing(run_dir, name: str) -> Path:
    path = Path(run_dir) / name
    if not path.is_file():
        raise MissingPathError(f"{path} does not exist; is {run_dir} a labkit run folder (made by train.fit)?")
    return path


def read_config(run_dir) -> dict:
    """config.json of a run: {"model": {...}, "train": {...}, "data": {...}, "labkit_version": ...}."""
    return json.loads(_existing(run_dir, CONFIG).read_text())


def read_metrics(run_dir) -> dict:
    """metrics.json of a finished run (see `final_metrics`)."""
    return json.loads(_existing(run_dir, METRICS).read_text())


def history(run_dir) -> pd.DataFrame:
    """history.csv of a run: one row per epoch (columns HISTORY_COLUMNS)."""
    return pd.read_csv(_existing(run_dir, HISTORY))


def batches(run_dir) -> pd.DataFrame:
    """batches.csv of a run: one row per update (columns BATCH_COLUMNS) — the per-batch loss and
    gradient norm that an epoch's mean hides (spikes of an exploding gradient, say)."""
    return pd.read_csv(_existing(run_dir, BATCHES))


def load_checkpoint(path: Path, map_location="cpu") -> dict:
    """Load a checkpoint of a run folder (weights_only=True: no code runs on load).

    A missing, truncated, empty or foreign file raises an error naming it; so do weights that
    are not finite (NaN or inf: a diverged run), which no model should be built from.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingPathError(f"checkpoint {path} does not exist; is {path.parent} a labkit run folder?")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # torch raises RuntimeError, EOFError, UnpicklingError, ... for a damaged file
        detail = (str(e).splitlines() or ["empty file"])[0][:120]
        raise RunError(f"{path}: not a readable checkpoint ({type(e).__name__}: {detail}); "
                       f"it was cut short or is not a labkit checkpoint. Fix: use the run's other checkpoint "
                       f"(best.pt / last.pt) or train again") from None
    if not isinstance(ckpt, dict):
        raise RunError(f"{path}: not a labkit checkpoint; pass a best.pt or last.pt written by train.fit")
    bad = [k for k, v in (ckpt.get("model") or {}).items() if torch.is_tensor(v) and v.is_floating_point() and
           not torch.isfinite(v).all()]
    if bad:
        raise RunError(f"{path}: weights {bad[:3]} are not finite (NaN or inf: the run diverged); use an earlier "
                       f"checkpoint or train again with a lower lr or grad_clip")
    return ckpt
