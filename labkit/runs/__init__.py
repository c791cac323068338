"""Run folders (written by `train.fit(..., run_dir=...)`): their format, runs as a table, and back as models.

    runs.table("runs")                     # one row per run: config columns + final metrics + problems
    model = runs.load("runs/demo")         # the DCRN with the run's best weights
    runs.summarize(table, by=["cell"], metric="best_val_accuracy")   # mean, std, 95% CI, n per group
"""
from .folder import load, table
from .record import BATCH_COLUMNS, HISTORY_COLUMNS, RUN_FILES, batches, history, load_checkpoint, read_config
from .stats import summarize

__all__ = ["table", "load", "history", "batches", "read_config", "load_checkpoint", "summarize", "HISTORY_COLUMNS",
           "BATCH_COLUMNS", "RUN_FILES"]
