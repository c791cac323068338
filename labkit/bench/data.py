"""Data benchmarks: generating the built-in tasks, and how much the decoded-clip cache saves."""
from __future__ import annotations

import os
import tempfile
import time

from labkit import data
from labkit.data.export import write_dataset


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process incl. the kernel's): CPU time shows the work when
    other jobs share the cores and stretch the wall time."""
    before, start = os.times(), time.perf_counter()
    fn()
    after = os.times()
    return time.perf_counter() - start, (after.user - before.user) + (after.system - before.system)


def rows(quick: bool = False) -> list[dict]:
    """Rows: seconds to generate each task at 16x64x64x3 (10,000 clips; target <= 10 s for
    `direction` on 2 cores), and the load speed-up from the cache on a folder of mp4 files."""
    n = 500 if quick else 10_000
    out = []
    for name in ("direction", "order", "digits"):
        # best of two: the first 2 GB allocation in a process can cost seconds of page faults alone
        (secs, cpu), (secs2, _) = sorted(_timed(lambda: data.synthetic(name, n=n, frames=16, size=64, seed=0))
                                         for _ in range(2))
        scaled = secs * 10_000 / n
        out.append({"name": f"synthetic {name}: {n:,} clips 16x64x64x3", "value": round(secs, 2), "unit": "s",
                    "target": "<= 10 s per 10,000" if name == "direction" else None,
                    "ok": scaled <= 10 if name == "direction" else None,
                    "note": f"best of 2 (other {secs2:.1f} s); {scaled:.1f} s per 10,000; CPU {cpu:.1f} s on "
                            f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"})
    clips = 8 if quick else 48
    with tempfile.TemporaryDirectory() as tmp:
        write_dataset(data.synthetic("digits", n=clips, frames=32, size=128, seed=0), f"{tmp}/videos", progress=False)
        load = lambda: data.folder(f"{tmp}/videos", frames=16, size=64, cache_dir=f"{tmp}/cache", progress=False)
        cold, warm = _seconds(load), _seconds(load)
    out.append({"name": f"folder load, {clips} mp4 clips 32x128x128 -> 16x64x64: cold / cached",
                "value": round(cold / warm, 1),
                "unit": "x faster", "target": ">= 3x", "ok": cold / warm >= 3,
                "note": f"cold {cold:.2f} s (decode + cache write), cached {warm:.3f} s"})
    return out
