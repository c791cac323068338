"""`direction`: a disc moves across a textured background in one of 8 directions.

Start position (uniform over the wrapping frame), speed, radius, colour and background are
drawn independently of the class, so any single frame is uninformative; only motion (two or
more frames) reveals the class. Evidence: the disc's pixels in every frame.
"""
from __future__ import annotations

import numpy as np

from ..evidence import Evidence
from .render import disc, moving_positions, paste, texture

DIRECTIONS = ["right", "up-right", "up", "up-left", "left", "down-left", "down", "down-right"]
OPTIONS = {"speed": (1.0, 2.5), "radius": (4.0, 7.0)}


def classes(**options) -> list[str]:
    return list(DIRECTIONS)


def generate(rng: np.random.Generator, labels: np.ndarray, out: np.ndarray, speed=(1.0, 2.5),
             radius=(4.0, 7.0)) -> tuple[Evidence, None]:
    """labels (n,) in 0..7 -> fills out uint8 (n, T, H, W, 3); returns evidence, no groups.

    speed: (low, high) pixels per frame at size 64; radius: (low, high) pixels at size 64.
    """
    n, frames, size = out.shape[0], out.shape[1], out.shape[2]
    scale = size / 64
    r = rng.uniform(*radius, size=n).astype(np.float32) * scale
    P = 2 * int(np.ceil(radius[1] * scale)) + 3
    alpha = disc(r, P)  # (n, P, P)
    centre = moving_positions(rng, labels, frames, size, speed)  # (n, T, 2), uniform per frame
    pos = (centre - P // 2).astype(np.int16)
    colour = rng.uniform(0, 255, size=(n, 3)).astype(np.float32)
    colour[np.arange(n), rng.integers(0, 3, n)] = 255.0  # one channel at full: stands out of the mid-grey texture
    out[:] = texture(rng, n, size)[:, None]  # static background
    paste(out, alpha, colour, pos)
    evidence = Evidence(footprint=(alpha > 0)[:, None], pos=pos[:, None],
                        visible=np.ones((n, 1, frames), bool), size=size)
    return evidence, None
