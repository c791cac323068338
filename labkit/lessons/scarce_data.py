"""Lesson: how accuracy grows with labelled clips, and what augmentation is worth when they are few.

Settings: `direction` with `features.FAST_DIRECTION` (a larger disc moving 1.5 to 2.5 pixels a
frame), 8 frames of 16 x 16 pixels; labelled training sets of 2 and 50 clips per class (1, 2,
5, 10, 25, 50 and 125 in full mode: 8 to 1,000 clips) drawn per seed from a pool of 1,000 (the
smaller sets of a seed are part of its larger ones, so a curve shows what adding clips does);
400 fresh clips to test on; the `default` preset over Sobel edges (MODEL below); Adam 3e-3,
batch 16, about 250 updates whatever the set's size (the epochs follow: many passes over a few
clips, few over many), no validation set (labels are what is scarce; the best epoch is the best
training accuracy); with and without augmentation (`data.augment_for`: shifts, brightness and
contrast, the same for every frame; no flips, which would change the direction); 3 seeds (5 in
full mode). At the task's default speed and 16 frames of 32 pixels, 150 updates taught the
model almost nothing even on 50 clips per class.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from labkit import data, runs, train

from .claims import gap
from .features import FAST_DIRECTION
from .result import LessonResult, lessons_root, test_accuracy

QUICK = dict(per_class=(2, 50), seeds=(0, 1, 2))
FULL = dict(per_class=(1, 2, 5, 10, 25, 50, 125), seeds=(0, 1, 2, 3, 4))
DATA = dict(task="direction", frames=8, size=16, options=FAST_DIRECTION, pool=1000, test_n=400)
TRAIN = dict(batch_size=16, lr=3e-3)
UPDATES = 250
EPOCH_CLIPS = 160  # a labelled set smaller than this is repeated to this size (see `repeated`)
# the model: `default` with the Sobel frame encoder (lesson frame_encoders), which learns this task
# steadily with the updates; the learned CNN learns it abruptly, at a moment that depends on the
# seed (in a trial, 300 updates on 50 clips per class gave 0.26, 0.99 and 0.71 over three seeds),
# so a band over seeds would show the seeds more than the labels
MODEL = dict(frame_encoder="sobel", frame_readout="flatten")
CHANCE = 1 / 8


def nested_subsets(pool, sizes, seed: int) -> dict:
    """{k: the first k clips of every class of `pool` in an order drawn by `seed`}: nested sets."""
    rng = np.random.default_rng(seed)
    orders = [rng.permutation(np.flatnonzero(pool.labels == c)) for c in range(pool.num_classes)]
    return {k: data.subset(pool, np.concatenate([o[:k] for o in orders])) for k in sizes}


def repeated(ds, at_least: int = EPOCH_CLIPS):
    """`ds` with its clips repeated (whole copies, in order) to at least `at_least` clips: an epoch
    over 16 clips is one update, and the per-epoch work of `fit` (history, checkpoints) would
    then outweigh the updates themselves; over the repeated set the same updates take a tenth of
    the epochs (each clip is still seen equally often, augmented afresh every time)."""
    copies = max(1, math.ceil(at_least / len(ds)))
    return ds if copies == 1 else data.subset(ds, np.tile(np.arange(len(ds)), copies))


def epochs_for(clips: int) -> int:
    """Epochs that give about UPDATES updates of TRAIN's batch on `clips` clips."""
    return max(1, math.ceil(UPDATES / math.ceil(clips / TRAIN["batch_size"])))


def learning_curves(quick: bool = False, root=None, progress: bool = True) -> LessonResult:
    """Test accuracy against labelled clips per class, with and without augmentation, over seeds."""
    start, p = time.perf_counter(), QUICK if quick else FULL
    make = lambda n, seed: data.synthetic(DATA["task"], n=n, frames=DATA["frames"], size=DATA["size"],  # noqa: E731
                                          seed=seed, **DATA["options"])
    pool, te = make(DATA["pool"], 0), make(DATA["test_n"], 1000)
    tables = []
    for seed in p["seeds"]:
        for k, labelled in nested_subsets(pool, p["per_class"], seed).items():
            labelled = repeated(labelled)
            grid = [{**MODEL, "augment": a, "seed": seed} for a in (False, True)]
            table = train.sweep("default", labelled, None, grid,
                                lessons_root(root) / "learning_curves" / f"per_class={k}", progress=progress,
                                epochs=epochs_for(len(labelled)), **TRAIN)
            tables.append(table.assign(per_class=k, test_accuracy=test_accuracy(table, te)))
    table = pd.concat(tables, ignore_index=True)
    summary = runs.summarize(table, by=["augment", "per_class"], metric="test_accuracy")
    return LessonResult("learning_curves", "Learning curves: accuracy against labelled clips, with augmentation",
                        {**p, **DATA, **TRAIN, **MODEL, "updates": UPDATES, "quick": quick}, table, summary,
                        _claims(table, p), seconds=time.perf_counter() - start)


def _claims(table: pd.DataFrame, p: dict) -> list:
    def acc(k, augment):
        return table[(table.per_class == k) & (table.augment == augment)]["test_accuracy"].to_numpy()

    name, few, many = "learning_curves", min(p["per_class"]), max(p["per_class"])
    return [gap(name, f"more labels, better: with {many} labelled clips per class the model beats {few} per class "
                      f"by more than 0.2 test accuracy (without augmentation)", acc(many, False), acc(few, False), 0.2,
                (f"{many} per class", f"{few} per class")),
            gap(name, f"with {many} labelled clips per class augmentation keeps that lead over {few} per class",
                acc(many, True), acc(few, True), 0.2, (f"{many} per class", f"{few} per class"))]
