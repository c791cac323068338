"""Run folders (written by `train.fit(..., run_dir=...)`): their format, runs as a table, and back as models.

    runs.table("runs")                     # one row per run: config columns + final metrics + problems
    model = runs.load("runs/demo")         # the DCRN with the run's best weights
    runs.summarize(table, by=["cell"], metric="best_val_accuracy")   # mean, std, 95% CI, n per group
    runs.predict("runs/demo", ["new.mp4", "more_videos/"])   # one row per clip: predicted, top-k, seconds
    tl = runs.timeline("runs/demo", "long.mp4", window=2, stride=0.5, unit="seconds")   # over time
    runs.segments(tl)                      # "waving 0:03–0:11": the stretches each class leads
"""
from .folder import load, table
from .prediction import predict, preprocessing, segments, timeline
from .record import BATCH_COLUMNS, HISTORY_COLUMNS, RUN_FILES, batches, history, load_checkpoint, read_config
from .stats import summarize

__all__ = ["table", "load", "predict", "preprocessing", "segments", "timeline", "history", "batches", "read_config", "load_checkpoint", "summarize", "HISTORY_COLUMNS",
           "BATCH_COLUMNS", "RUN_FILES"]
