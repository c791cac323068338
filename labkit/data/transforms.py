"""Clip transforms: `transform(clip uint8 (T, H, W, C), rng) -> clip uint8 (T, H, W, C)`, the same
change applied to every frame so motion and order are untouched; plus `channel_stats` for the
model's normalisation (`DCRNConfig.mean/std`)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from labkit.errors import LabkitError
from .dataset import root_recipe

Transform = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def clip_augment(flip: bool = True, shift: float = 0.1, brightness: float = 0.2, contrast: float = 0.2) -> Transform:
    """A random transform, drawn once per clip and applied to all its frames.

    flip: mirror left-right with probability 1/2 (leave False when left/right is the class,
    as in the `direction` task: `augment_for(ds)` knows); shift: translate by up to this
    fraction of the width/height (edges repeat); brightness: add up to +-this x 255;
    contrast: scale around the clip's mean by a factor in 1 +- this.
    """
    for name, value in (("shift", shift), ("brightness", brightness), ("contrast", contrast)):
        if not 0 <= value < 1:
            raise LabkitError(f"clip_augment: {name}={value} must lie in [0, 1)")

    def transform(clip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        T, H, W, C = clip.shape
        dy, dx = np.round(rng.uniform(-shift, shift, 2) * (H, W)).astype(int)
        rows = np.clip(np.arange(H) - dy, 0, H - 1)
        cols = np.clip(np.arange(W) - dx, 0, W - 1)
        if flip and rng.random() < 0.5:
            cols = cols[::-1]
        out = clip[:, rows][:, :, cols].astype(np.float32)  # (T, H, W, C), one gather for shift and flip
        mean = out.mean()
        out = (out - mean) * rng.uniform(1 - contrast, 1 + contrast) + mean + rng.uniform(-brightness, brightness) * 255
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)

    return transform


def augment_for(ds) -> Transform:
    """`clip_augment()` with flips off when mirroring would change the class (motion direction, digits)."""
    task = (root_recipe(getattr(ds, "recipe", None)) or {}).get("task")  # a split knows its task too
    return clip_augment(flip=task not in ("direction", "digits"))  # mirrored digits are not digits either


def channel_stats(ds, max_clips: int = 256, seed: int = 0) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel (mean, std) of pixel values scaled to [0, 1], from up to `max_clips` random clips;
    pass them as `DCRNConfig(mean=..., std=...)`."""
    total = total_sq = count = 0
    for i in np.random.default_rng(seed).permutation(len(ds))[:max_clips]:
        clip = ds[int(i)][0]
        x = clip.reshape(-1, clip.shape[-1]) / 255.0  # (T*H*W, C)
        total, total_sq, count = total + x.sum(0), total_sq + (x ** 2).sum(0), count + len(x)
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean ** 2, 0))
    return tuple(mean.round(4).tolist()), tuple(std.round(4).tolist())
