"""Lesson 4: exploding (and vanishing) gradients in a plain RNN, and gradient clipping.

First the mechanism, with no training at all: the gradient a plain RNN passes back through its
recurrence is multiplied by the hidden-to-hidden weights at every frame, so with those weights
scaled to gain g (`recurrent_gain`: every singular value g) it shrinks like g^t for g < 1 and
grows like g^t for g > 1. Then what that does to training: a plain RNN with gain 2, trained by
SGD with momentum, with and without `grad_clip`.

Settings: `recall` clips of 16 frames of 16 x 16 pixels, span 7, 1,000 clips (80/20) and 400
fresh test clips; the `default` preset with a plain RNN of 64 units; SGD, momentum 0.9, lr
0.05, batch 32, 6 epochs; gradient clipping at norm 1.0 or none; 5 seeds.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from labkit import data, explain, models, runs, train

from .claims import above, below, gap
from .result import LessonResult, lessons_root, test_accuracy

GAINS = (0.5, 1.0, 2.0)
SEEDS = (0, 1, 2, 3, 4)
DATA = dict(frames=16, size=16, n=1000, test_n=400, span=7)
MODEL = dict(cell="rnn", hidden_size=64, recurrent_gain=2.0)
TRAIN = dict(epochs=6, batch_size=32, optimizer="sgd", momentum=0.9, lr=0.05)


def _recall(n: int, seed: int):
    return data.synthetic("recall", n=n, frames=DATA["frames"], size=DATA["size"], seed=seed, span=DATA["span"])


def gradient_growth(gains=GAINS, seeds=SEEDS, clips: int = 32) -> pd.DataFrame:
    """Untrained plain RNNs at each recurrent gain: the loss gradient reaching each frame of
    `clips` clips (mean over clips), one row per gain, seed and frame, with `log10_first_over_last`."""
    ds = _recall(clips, seed=0)
    x, targets = ds.batch(np.arange(clips))[0], [int(y) for y in ds.labels]
    rows = []
    for gain in gains:
        for seed in seeds:
            model = models.preset("default", num_classes=ds.num_classes, img_size=DATA["size"], seed=seed,
                                  **{**MODEL, "recurrent_gain": gain})
            flow = explain.gradient_flow(model.eval(), x, target=targets).groupby("frame", as_index=False)["grad_norm"].mean()
            ratio = np.log10(flow["grad_norm"].iloc[0] / flow["grad_norm"].iloc[-1])
            rows.append(flow.assign(gain=gain, seed=seed, log10_first_over_last=ratio))
    return pd.concat(rows, ignore_index=True)


def exploding_gradients(quick: bool = False, root=None, progress: bool = True) -> LessonResult:
    """The gradient's growth over frames at each gain, and training with and without clipping."""
    start = time.perf_counter()
    growth = gradient_growth()
    per_model = growth.drop_duplicates(["gain", "seed"])
    ds = _recall(DATA["n"], seed=0)
    tr, va = data.split(ds, (0.8, 0.2), seed=0)
    grid = {"grad_clip": [None, 1.0], "seed": list(SEEDS)}
    table = _sweep(tr, va, grid, root, progress)
    table["test_accuracy"] = test_accuracy(table, _recall(DATA["test_n"], seed=1000))
    logs = [runs.batches(path) for path in table["path"]]  # per update: the gradient norm before clipping
    table["spike"] = [b["grad_norm"].max() / b["grad_norm"].median() for b in logs]
    batches = pd.concat([b.assign(clipping="none" if pd.isna(c) else f"at norm {c:g}", seed=s)
                         for b, c, s in zip(logs, table["grad_clip"], table["seed"])], ignore_index=True)
    summary = runs.summarize(table.assign(grad_clip=table["grad_clip"].fillna(0)), by="grad_clip",
                             metric="test_accuracy")

    def ratio(gain):
        return per_model[per_model.gain == gain]["log10_first_over_last"].to_numpy()

    def acc(clipped: bool):
        return table[table["grad_clip"].notna() == clipped]["test_accuracy"].to_numpy()

    name = "exploding_gradients"
    claims = [
        above(name, "with recurrent gain 2 the untrained RNN's gradient at the first frame is over 10x its gradient "
                    "at the last (it explodes going back in time)", ratio(2.0), 1.0, "log10(first/last)"),
        below(name, "with recurrent gain 0.5 it is under 1/100 of it (it vanishes)", ratio(0.5), -2.0,
              "log10(first/last)"),
        above(name, "without clipping, the largest gradient of a training run is over 5x its median (it spikes)",
              table[table["grad_clip"].isna()]["spike"], 5.0, "max/median gradient norm"),
        gap(name, "clipping the gradient at norm 1 makes the same runs learn more: a higher test accuracy",
            acc(True), acc(False), 0.0, ("clipped", "not clipped")),
    ]
    return LessonResult(name, "Exploding gradients, and clipping", {"gains": GAINS, "seeds": SEEDS, **DATA, **MODEL,
                                                                    **TRAIN, "quick": quick},
                        table, summary, claims, extra={"growth": growth, "batches": batches},
                        seconds=time.perf_counter() - start)


def _sweep(tr, va, grid, root, progress) -> pd.DataFrame:
    """The training runs: the gain-2 RNN for every (grad_clip, seed) of `grid`."""
    def build(seed):
        return models.preset("default", num_classes=tr.num_classes, img_size=DATA["size"], seed=seed, **MODEL)
    return train.sweep(build, tr, va, grid, lessons_root(root) / "exploding_gradients", progress=progress, **TRAIN)
