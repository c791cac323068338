"""`order`: a red and a blue flash at random places, `gap` frames apart (fixed or a range); the
class is which came first.

Each clip shows both flashes, so the set of frames carries no class: only their order does, and
a frame-only model (CNN + mean over time) stays at chance. What it does NOT measure is memory
over the gap: the two flashes always differ in colour, so the colour of either one alone decides
the class (red first = blue second). A recurrent model can read the *later* flash and keep it
only for the frames that follow it; a long gap makes the task easier, not harder. For memory as
the controlled variable use `recall` (its `span`). Evidence: the two flashes, in their frames.
"""
from __future__ import annotations

import numpy as np

from labkit.errors import LabkitError
from ..evidence import Evidence
from .render import paste, texture

CLASSES = ["red-first", "blue-first"]
RED, BLUE = (235.0, 35.0, 35.0), (35.0, 70.0, 240.0)
OPTIONS = {"gap": None, "duration": 1, "flash_size": (8.0, 12.0)}


def classes(**options) -> list[str]:
    return list(CLASSES)


def _gap_range(gap, frames: int) -> tuple[int, int]:
    """gap option -> (low, high) inclusive: None = frames // 2, an int, or a (low, high) pair."""
    if gap is None:
        gap = max(1, frames // 2)
    low, high = (gap, gap) if np.isscalar(gap) else gap
    return int(low), int(high)


def resolve(frames: int, gap=None, **rest) -> dict:
    """The options with the gap in effect: None becomes frames // 2 (a (low, high) pair stays)."""
    low, high = _gap_range(gap, frames)
    return {"gap": low if low == high else (low, high), **rest}


def check(frames: int, size: int, gap=None, duration=1, flash_size=(8.0, 12.0)) -> None:
    """Raise ValueError naming the option when the clip cannot hold both flashes."""
    low, high = _gap_range(gap, frames)
    if int(duration) < 1:
        raise LabkitError(f"order: duration={duration} must be >= 1 frame")
    if low < duration or high < low:
        raise LabkitError(f"order: gap={gap} must be >= duration={duration} (the flashes would overlap in time)"
                         f"{' and a (low, high) range needs low <= high' if high < low else ''}")
    if high + duration > frames:
        raise LabkitError(f"order: gap={gap} and duration={duration} need frames >= {high + duration}; "
                         f"got frames={frames} (use more frames or gap <= {frames - duration})")


def generate(rng: np.random.Generator, labels: np.ndarray, out: np.ndarray, gap=None, duration=1,
             flash_size=(8.0, 12.0)) -> tuple[Evidence, None]:
    """labels (n,) in {0: red first, 1: blue first}; fills out uint8 (n, T, H, W, 3); returns evidence, no groups.

    gap: frames between the two onsets: an int (default T // 2) or a (low, high) range drawn per
    clip; duration: frames each flash lasts; flash_size: (low, high) side of the square flash in
    pixels at size 64.
    """
    n, T, size = out.shape[0], out.shape[1], out.shape[2]
    low, high = _gap_range(gap, T)
    gaps = rng.integers(low, high + 1, size=n)  # (n,), independent of the class
    side = np.round(rng.uniform(*flash_size, size=n) * size / 64).astype(int).clip(2, size)
    P = int(np.round(flash_size[1] * size / 64))
    square = (np.arange(P)[None, :, None] < side[:, None, None]) & (np.arange(P)[None, None, :] < side[:, None, None])
    out[:] = texture(rng, n, size, level=(50.0, 110.0), contrast=25.0, saturation=0.1)[:, None]
    onset = (rng.random(n) * (T - gaps - duration + 1)).astype(np.int64)[:, None]  # (n, 1), same for both classes
    t = np.arange(T)[None, :]
    first = (t >= onset) & (t < onset + duration)  # (n, T)
    second = (t >= onset + gaps[:, None]) & (t < onset + gaps[:, None] + duration)
    red_first = labels == 0
    visible = np.stack([np.where(red_first[:, None], first, second),  # red
                        np.where(red_first[:, None], second, first)], axis=1)  # blue: (n, 2, T)
    corner = rng.integers(0, size - side[:, None, None] + 1, size=(n, 2, 2))  # (n, sprite, row/col), inside the frame
    pos = np.broadcast_to(corner[:, :, None, :], (n, 2, T, 2)).astype(np.int16)
    alpha = square.astype(np.float32)
    for k, colour in enumerate((RED, BLUE)):  # two sprites
        paste(out, alpha, np.broadcast_to(np.float32(colour), (n, 3)), pos[:, k], visible[:, k])
    return Evidence(footprint=np.stack([square, square], axis=1), pos=pos, visible=visible, size=size), None
