"""Data benchmarks: generating the built-in tasks, and how much the decoded-clip cache saves."""
from __future__ import annotations

import os
import tempfile

from labkit import data

from .timing import timed


def rows(quick: bool = False) -> list[dict]:
    """Rows: seconds to generate each task at 16x64x64x3 (10,000 clips; target <= 10 s for
    `direction` on 2 cores), and the load speed-up from the cache on a folder of mp4 files."""
    n = 500 if quick else 10_000
    out = []
    for name in ("direction", "order", "digits"):
        # best of two: the first 2 GB allocation in a process can cost seconds of page faults alone
        (secs, cpu), (secs2, _) = sorted(timed(lambda: data.synthetic(name, n=n, frames=16, size=64, seed=0))
                                         for _ in range(2))
        scaled = secs * 10_000 / n
        out.append({"name": f"synthetic {name}: {n:,} clips 16x64x64x3", "value": round(secs, 2), "unit": "s",
                    "target": "<= 10 s per 10,000" if name == "direction" else None,
                    "ok": scaled <= 10 if name == "direction" else None,
                    "note": f"best of 2 (other {secs2:.1f} s); {scaled:.1f} s per 10,000; CPU {cpu:.1f} s on "
                            f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"})
    clips = 8 if quick else 48
    with tempfile.TemporaryDirectory() as tmp:
        data.write_dataset(data.synthetic("digits", n=clips, frames=32, size=128, seed=0), f"{tmp}/videos", progress=False)
        load = lambda: data.folder(f"{tmp}/videos", frames=16, size=64, cache_dir=f"{tmp}/cache", progress=False)
        cold, warm = timed(load)[0], timed(load)[0]
    out.append({"name": f"folder load, {clips} mp4 clips 32x128x128 -> 16x64x64: cold / cached",
                "value": round(cold / warm, 1),
                "unit": "x faster", "target": ">= 3x", "ok": cold / warm >= 3,
                "note": f"cold {cold:.2f} s (decode + cache write), cached {warm:.3f} s"})
    return out
