"""Built-in sequence tasks, generated (never downloaded): `synthetic(name, n, frames, size, seed, **options)`.

| task        | classes                         | what carries the class                      |
| ----------- | ------------------------------- | ------------------------------------------- |
| `direction` | 8 directions of motion          | motion only: any single frame is uninformative |
| `order`     | red-first / blue-first          | the order of two flashes `gap` frames apart |
| `digits`    | the digit 0-9 (or its direction) | a real handwritten digit, moving            |
| `recall`    | the first square's colour (4)    | the first square, `span` frames before the end, among look-alike squares that decide nothing |

Generation is vectorised over clips in fixed chunks, each with its own random stream derived
from (seed, chunk), so the output is identical for a seed whatever the number of threads.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from labkit.errors import LabkitError
from ..dataset import ClipDataset
from ..evidence import Evidence
from . import digits, direction, order, recall

TASKS = {"direction": direction, "order": order, "digits": digits, "recall": recall}
# clips per work item (small: its temporaries stay in cache). Each chunk has its own random
# stream, so CHUNK is part of the definition of the data: changing it changes the clips.
CHUNK = 64


def synthetic(name: str, n: int = 2000, frames: int = 16, size: int = 64, seed: int = 0,
              workers: int | None = None, **options) -> ClipDataset:
    """Generate a built-in task: N clips uint8 (frames, size, size, 3), classes balanced (counts differ by <= 1).

    name: "direction", "order", "digits" or "recall". Task options (see each task's module):
    direction(speed, radius); order(gap=frames // 2 or a (low, high) range, duration=1, flash_size);
    recall(span=frames // 2, colours=4, square_size);
    digits(label="digit" or "direction", digit_size, speed).
    workers: threads (default: up to 4 CPU cores); the output does not depend on it.
    Returns a ClipDataset with `evidence_frames` (N, T), `evidence_mask(i)` (T, H, W) and a
    recipe {"kind": "synthetic", "task", "n", "frames", "size", "seed", "options": every option in
    effect} (workers is not part of it: it never changes the clips).
    """
    if name not in TASKS:
        raise LabkitError(f"unknown synthetic task {name!r}; choose one of {sorted(TASKS)}")
    task = TASKS[name]
    unknown = sorted(set(options) - set(task.OPTIONS))
    if unknown:
        raise LabkitError(f"{name}: unknown option(s) {unknown}; valid options: {sorted(task.OPTIONS)}")
    for arg, value, low in (("n", n, 1), ("frames", frames, 2), ("size", size, 16)):
        if int(value) != value or value < low:
            raise LabkitError(f"synthetic {name!r}: {arg}={value!r} must be an integer >= {low}")
    if hasattr(task, "check"):
        task.check(frames, size, **options)
    classes = task.classes(**options)
    labels = np.random.default_rng([seed, 0]).permutation(np.arange(n) % len(classes))  # balanced
    clips = np.empty((n, frames, size, size, 3), np.uint8)  # (N, T, H, W, C), 1.97 GB for 10k x 16x64x64

    def make(chunk: int) -> tuple[Evidence, np.ndarray | None]:
        rows = slice(chunk * CHUNK, min(n, (chunk + 1) * CHUNK))
        rng = np.random.default_rng([seed, 1, chunk])
        return task.generate(rng, labels[rows], clips[rows], **options)

    workers = workers or min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers) as pool:  # numpy releases the GIL in the heavy loops
        parts = list(pool.map(make, range(-(-n // CHUNK))))
    groups = None if parts[0][1] is None else np.concatenate([g for _, g in parts])
    recipe = {"kind": "synthetic", "task": name, "n": int(n), "frames": int(frames), "size": int(size),
              "seed": int(seed), "options": resolved_options(name, frames, options)}
    return ClipDataset(clips, labels, classes, name, groups=groups,
                       evidence=Evidence.concat([e for e, _ in parts]), recipe=recipe)


def resolved_options(name: str, frames: int, options: dict) -> dict:
    """Every option of task `name` with its value in effect (defaults too, order's gap resolved
    from None to frames // 2), so a recipe says exactly what the data was."""
    task = TASKS[name]
    resolved = {**task.OPTIONS, **options}
    return task.resolve(frames, **resolved) if hasattr(task, "resolve") else resolved
