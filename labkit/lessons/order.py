"""Lesson 1: order matters. A DCRN (GRU) against the same CNN with a mean over time in place of the
recurrence (the frame-only model), on `direction`, where no single frame shows the class.

Settings: `direction` clips of 16 frames of 32 x 32 pixels, 1,000 clips (80% train, 20%
validation) and 400 fresh clips to test on; the `default` preset; Adam at 3e-3, batch 16, up to
20 epochs, stopping at 0.95 validation accuracy or after 5 epochs without progress; 3 seeds (5 in
full mode).
"""
from __future__ import annotations

import time

from labkit import data, runs, train

from .claims import below, gap
from .result import LessonResult, lessons_root, test_accuracy

QUICK = dict(seeds=(0, 1, 2))
FULL = dict(seeds=(0, 1, 2, 3, 4))
DATA = dict(frames=16, size=32, n=1000, test_n=400)
TRAIN = dict(epochs=20, batch_size=16, lr=3e-3)
CHANCE = 1 / 8


def order_matters(quick: bool = False, root=None, progress: bool = True) -> LessonResult:
    """Test accuracy of the DCRN and of the frame-only model over seeds."""
    start, p = time.perf_counter(), QUICK if quick else FULL
    ds = data.synthetic("direction", n=DATA["n"], frames=DATA["frames"], size=DATA["size"], seed=0)
    tr, va = data.split(ds, (0.8, 0.2), seed=0)
    te = data.synthetic("direction", n=DATA["test_n"], frames=DATA["frames"], size=DATA["size"], seed=1000)
    grid = {"cell": ["gru", "none"], "seed": list(p["seeds"])}
    stops = [train.StopAtTarget(0.95), train.EarlyStopping(5)]
    table = train.sweep("default", tr, va, grid, lessons_root(root) / "order_matters", callbacks=stops,
                        progress=progress, **TRAIN)
    table["test_accuracy"] = test_accuracy(table, te)
    summary = runs.summarize(table, by="cell", metric="test_accuracy")

    def acc(cell):
        return table[table.cell == cell]["test_accuracy"].to_numpy()

    name = "order_matters"
    claims = [gap(name, "the DCRN (CNN + GRU) beats the same CNN without recurrence by at least 0.3 on direction",
                  acc("gru"), acc("none"), 0.3, ("DCRN", "frame-only")),
              below(name, f"the frame-only model stays within 0.15 of chance ({CHANCE:.3f}) on direction",
                    acc("none"), CHANCE + 0.15, "frame-only accuracy")]
    return LessonResult(name, "Order matters: a DCRN against a frame-only model", {**p, **DATA, **TRAIN, "quick": quick},
                        table, summary, claims, seconds=time.perf_counter() - start)
