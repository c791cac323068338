"""The benchmark's one timing helper: wall (and CPU) seconds of calls, compared within one run."""
from __future__ import annotations

import os
import statistics
import time


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process incl. the kernel's) of one call of fn(): CPU time
    shows the work when other jobs share the cores and stretch the wall time."""
    before, start = os.times(), time.perf_counter()
    fn()
    after = os.times()
    return time.perf_counter() - start, (after.user - before.user) + (after.system - before.system)


def best_times(fns, repeats: int, warmup: bool = True) -> list[float]:
    """Best wall seconds of each of `fns` over `repeats` rounds, run alternately (after one
    warm-up round when `warmup`), so that every figure sees the same spells of load from other
    processes and their ratios hold while absolute times wander."""
    if warmup:
        for fn in fns:
            fn()
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            best[i] = min(best[i], timed(fn)[0])
    return best


def median_seconds(fn, n: int) -> float:
    """Median wall seconds of fn(0), fn(1), ..., fn(n - 1) (e.g. n moves of a slider)."""
    return statistics.median(timed(lambda i=i: fn(i))[0] for i in range(n))
