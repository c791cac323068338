"""Run folders (written by `train.fit(..., run_dir=...)`) as a table, and back as models.

    runs.table("runs")          # one row per run: config columns + final metrics + problems
    model = runs.load("runs/demo")   # the DCRN with the run's best weights
"""
from .folder import history, load, read_config, table

__all__ = ["table", "load", "history", "read_config"]
