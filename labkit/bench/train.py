"""Learning speed: does the `default` preset reach >= 95% validation accuracy on `direction`
(2,000 clips of 16 x 64 x 64) within 60 s of training on this CPU, while `frame-only` (no
recurrence) stays within 10 points of chance (12.5% for 8 directions) under the same budget?

Training seconds count batches only (validation after each epoch is not counted); accuracy is
checked at epoch ends on a fixed 15% validation split. Adam, lr 3e-3, batch 16, augmentation on
(fit's defaults otherwise): in trials on this CPU batch 16 reached 95% after ~8,500 training clips
(5 epochs), as batch 8, while batch 32 needed ~10,000 and lr 5e-3 or 1e-2 were less reliable.
Model weights start from a seeded draw (seed 0), so a quiet machine repeats the accuracy figures.
Every core computes and augmentation runs in the main process: on an idle 2-core CPU that trained
~295 clips/s against ~215 for one compute thread + one loader worker. On a busy CPU the split wins
(two intra-op threads then ran 2-4x slower); seconds wander with load, the clips-to-target row does not.
"""
from __future__ import annotations

import math
import tempfile

import torch

from labkit import data, runs, train

FULL = dict(n=2000, frames=16, size=64, budget_s=60.0, max_epochs=100)
QUICK = dict(n=160, frames=8, size=32, budget_s=3.0, max_epochs=2)
TARGET = 0.95
CHANCE_MARGIN = 0.10


def race(tr, va, cells: list[str], budget_s: float, max_epochs: int, target: float, batch_size: int = 16,
         lr: float = 3e-3, seed: int = 0, threads: int | None = None, workers: int = 0) -> dict[str, dict]:
    """Train the `default` preset with each temporal `cell` ("none": the frame-only preset) until
    `target` val accuracy or `budget_s` training seconds, whichever comes first: one `train.sweep`.

    Returns per cell: best/final val accuracy, the training seconds and training clips after
    which `target` was first reached (NaN if never), epochs run, clips/s, and the history.
    """
    with tempfile.TemporaryDirectory() as root:
        table = train.sweep("default", tr, va, grid={"cell": cells}, root=root, progress=False,
                            callbacks=[train.TimeLimit(budget_s), train.StopAtTarget(target)], epochs=max_epochs,
                            batch_size=batch_size, lr=lr, seed=seed, threads=threads, workers=workers)
        histories = {row.cell: runs.history(row.path) for row in table.itertuples()}
    return {cell: _race_figures(h, target) for cell, h in histories.items()}


def _race_figures(h, target: float) -> dict:
    elapsed = h["seconds"].cumsum()
    seen = (h["seconds"] * h["clips_per_s"]).cumsum()  # training clips processed so far
    hit = h.index[h["val_accuracy"] >= target]
    return {"best_val_accuracy": float(h["val_accuracy"].max()), "final_val_accuracy": float(h["val_accuracy"].iloc[-1]),
            "seconds_to_target": float(elapsed[hit[0]]) if len(hit) else math.nan,
            "clips_to_target": float(seen[hit[0]]) if len(hit) else math.nan,
            "train_seconds": float(elapsed.iloc[-1]), "epochs": len(h), "clips_per_s": float(h["clips_per_s"].mean()),
            "history": h}


def rows(quick: bool = False) -> list[dict]:
    p = QUICK if quick else FULL
    ds = data.synthetic("direction", n=p["n"], frames=p["frames"], size=p["size"], seed=0)
    tr, va = data.split(ds, (0.85, 0.15), seed=0)
    chance = 1 / ds.num_classes
    shape = f"{p['n']} clips {p['frames']}x{p['size']}x{p['size']}"
    # all cores compute, augmentation in the main process: on a quiet 2-core CPU this ran ~295 clips/s
    # against ~215 for one compute thread + one loader worker (which wins only when the CPU is busy)
    threads, workers = torch.get_num_threads(), 0
    result = race(tr, va, ["gru", "none"], p["budget_s"], p["max_epochs"], TARGET, threads=threads, workers=workers)
    d, f = result["gru"], result["none"]
    budget = f"<= {p['budget_s']:g} s of training"
    return [
        {"name": f"default: best val accuracy, direction {shape}, {budget}", "value": round(d["best_val_accuracy"], 4),
         "unit": "accuracy", "target": f">= {TARGET}", "ok": d["best_val_accuracy"] >= TARGET,
         "note": f"{d['epochs']} epochs, {d['clips_per_s']:.0f} train clips/s, {threads} thread(s), {workers} loader worker(s)"},
        {"name": "default: training seconds to reach 95% val accuracy", "value": round(d["seconds_to_target"], 1),
         "unit": "s", "target": f"<= {p['budget_s']:g}", "ok": d["seconds_to_target"] <= p["budget_s"],
         "note": f"at the end of epoch {d['epochs']}" if not math.isnan(d["seconds_to_target"])
         else "NaN: not reached within the budget"},
        {"name": "default: training clips seen before reaching 95% (independent of CPU load)",
         "value": d["clips_to_target"], "unit": "clips", "ok": None,
         "note": f"needs {d['clips_to_target'] / p['budget_s']:.0f} train clips/s to fit the budget"
         if not math.isnan(d["clips_to_target"]) else "not reached"},
        {"name": f"frame-only: best val accuracy, same data and budget", "value": round(f["best_val_accuracy"], 4),
         "unit": "accuracy", "target": f"<= {chance + CHANCE_MARGIN:.3f} (chance {chance:.3f} + 0.10)",
         "ok": f["best_val_accuracy"] <= chance + CHANCE_MARGIN,
         "note": f"{f['epochs']} epochs, {f['clips_per_s']:.0f} train clips/s, {threads} thread(s), {workers} loader worker(s)"},
    ]
