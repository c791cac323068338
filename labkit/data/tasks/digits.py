"""`digits`: real handwritten digits (scikit-learn's bundled 8x8 set), upscaled, moving over a
textured background in one of 8 directions. label="digit" (10 classes; the motion is a nuisance)
or label="direction" (8 classes; the digit is a nuisance and, as in `direction`, one frame alone
carries no class). Groups: the index of the source image, so `split` keeps each handwritten
sample in one split. Evidence: the digit's pixels in every frame.
"""
from __future__ import annotations

import functools

import numpy as np

from labkit.errors import LabkitError
from ..evidence import Evidence
from .direction import DIRECTIONS
from .render import moving_positions, paste, texture, upsample_matrix

OPTIONS = {"label": "digit", "digit_size": 24.0, "speed": (1.0, 2.5)}
LABELS = ("digit", "direction")


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    """(images float32 (1797, 8, 8) in [0, 1], targets int64 (1797,)), from sklearn's bundled copy."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images / 16.0).astype(np.float32), d.target.astype(np.int64)


def classes(label="digit", **options) -> list[str]:
    if label not in LABELS:
        raise LabkitError(f"digits: label={label!r} is not one of {list(LABELS)}")
    return [str(d) for d in range(10)] if label == "digit" else list(DIRECTIONS)


def generate(rng: np.random.Generator, labels: np.ndarray, out: np.ndarray, label="digit",
             digit_size=24.0, speed=(1.0, 2.5)) -> tuple[Evidence, np.ndarray]:
    """labels (n,) -> fills out uint8 (n, T, H, W, 3); returns evidence and groups (source image, (n,)).

    digit_size: side of the upscaled digit in pixels at size 64; speed: (low, high) pixels per frame at size 64.
    """
    n, T, size = out.shape[0], out.shape[1], out.shape[2]
    images, targets = _digits()
    if label == "digit":
        # a uniformly drawn image of each clip's digit: images sorted by digit, a random rank within it
        by_digit = np.argsort(targets, kind="stable")
        counts = np.bincount(targets, minlength=10)
        starts = np.cumsum(counts) - counts
        source = by_digit[starts[labels] + (rng.random(n) * counts[labels]).astype(np.int64)]
        direction = rng.integers(0, 8, size=n)
    else:
        source = rng.integers(0, len(images), size=n)
        direction = labels
    P = max(4, int(round(digit_size * size / 64)))
    A = upsample_matrix(8, P)
    alpha = np.clip(1.3 * (A @ images[source] @ A.T), 0.0, 1.0)  # (n, P, P)
    pos = moving_positions(rng, direction, T, size, speed) - P // 2  # (n, T, 2)
    colour = rng.uniform(0, 255, size=(n, 3)).astype(np.float32)
    colour[np.arange(n), rng.integers(0, 3, n)] = 255.0
    out[:] = texture(rng, n, size, level=(40.0, 120.0), contrast=30.0)[:, None]
    paste(out, alpha, colour, pos)
    evidence = Evidence(footprint=(alpha > 0)[:, None], pos=pos.astype(np.int16)[:, None],
                        visible=np.ones((n, 1, T), bool), size=size)
    return evidence, source
