"""Lesson: a smaller, faster model. The trained DCRNs of lesson 1 (`default` on `direction`, one per
seed; `order_matters` trains them, this lesson reuses them) pruned and quantized, each step
measured on the CPU: parameters, size on disk, latency per clip and test accuracy
(`models.compression_table`: half of every weight tensor pruned by magnitude; int8 dynamic
quantization of the GRU and the linear layers; latency on one thread, median of 30 clips).
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from labkit import models, runs, train

from .claims import below
from .features import direction_data
from .order import DATA, QUICK, FULL, TRAIN
from .result import LessonResult, lessons_root

AMOUNT = 0.5


def compression(quick: bool = False, root=None, progress: bool = True) -> LessonResult:
    """The compression table of every trained run, and what it supports."""
    start, p = time.perf_counter(), QUICK if quick else FULL
    tr, va, te = direction_data(DATA["n"], DATA["frames"], DATA["size"], DATA["test_n"])
    stops = [train.StopAtTarget(0.95), train.EarlyStopping(5)]  # lesson 1's runs, trained there or here alike
    trained = train.sweep("default", tr, va, {"cell": ["gru"], "seed": list(p["seeds"])},
                          lessons_root(root) / "order_matters", callbacks=stops, progress=progress, **TRAIN)
    table = pd.concat([models.compression_table(runs.load(row.path), te, AMOUNT, repeats=30).assign(
        seed=row.seed, path=row.path) for row in trained.itertuples()], ignore_index=True)
    summary = pd.concat([runs.summarize(table, by="step", metric=m).assign(metric=m)
                         for m in ("size_ratio", "latency_ms", "accuracy", "accuracy_change")], ignore_index=True)

    def col(step, column):
        return table[table.step == step][column].to_numpy()

    name, q = "compression", "quantized int8"
    claims = [below(name, "int8 dynamic quantization stores the trained default model in at most half the bytes",
                    col(q, "size_ratio"), 0.5, "size on disk, quantized / float"),
              below(name, "and its test accuracy on direction moves by less than 0.02",
                    np.abs(col(q, "accuracy_change")), 0.02, "|accuracy change|")]
    return LessonResult(name, "Smaller and faster: pruning and int8 quantization, measured",
                        {**p, **DATA, **TRAIN, "amount": AMOUNT, "quick": quick}, table, summary, claims,
                        seconds=time.perf_counter() - start)
