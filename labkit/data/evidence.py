"""Ground-truth evidence of synthetic clips: which frames and which pixels carry the class.

Stored compactly, per clip, as K sprites (the object, or each flash): a footprint (P, P) bool,
a top-left position per frame (T, 2) and a visibility per frame (T,). Masks (T, H, W) are drawn
on demand with the same wrap-around placement the renderer used, so a mask covers exactly the
pixels a sprite touched.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Evidence:
    """Sprite placements of N clips.

    footprint: bool (N, K, P, P) — the pixels each sprite covers.
    pos: int16 (N, K, T, 2) — top-left (row, col) of each sprite in each frame (wraps around).
    visible: bool (N, K, T) — whether the sprite is drawn in that frame.
    size: int — frame height = width, for drawing masks.
    """

    footprint: np.ndarray
    pos: np.ndarray
    visible: np.ndarray
    size: int

    @property
    def frames(self) -> np.ndarray:
        """bool (N, T): frames in which any class-carrying sprite is drawn."""
        return self.visible.any(axis=1)

    def mask(self, i: int) -> np.ndarray:
        """bool (T, H, W): the pixels of clip `i` that carry its class."""
        _, K, P, _ = self.footprint.shape
        T = self.visible.shape[-1]
        out = np.zeros((T, self.size, self.size), dtype=bool)
        offsets = np.arange(P)
        for k in range(K):  # K is 1 or 2: a loop over sprites, not pixels
            t = np.flatnonzero(self.visible[i, k])
            rows = (self.pos[i, k, t, 0, None] + offsets) % self.size  # (t, P)
            cols = (self.pos[i, k, t, 1, None] + offsets) % self.size  # (t, P)
            fp = np.broadcast_to(self.footprint[i, k], (len(t), P, P))
            tt = np.broadcast_to(t[:, None, None], fp.shape)
            rr = np.broadcast_to(rows[:, :, None], fp.shape)
            cc = np.broadcast_to(cols[:, None, :], fp.shape)
            out[tt[fp], rr[fp], cc[fp]] = True
        return out

    def take(self, indices: np.ndarray) -> "Evidence":
        """The evidence of the clips at `indices` (int array), in that order."""
        return Evidence(self.footprint[indices], self.pos[indices], self.visible[indices], self.size)

    @staticmethod
    def concat(parts: list["Evidence"]) -> "Evidence":
        """Join evidence of consecutive chunks of clips along N."""
        return Evidence(np.concatenate([p.footprint for p in parts]), np.concatenate([p.pos for p in parts]),
                        np.concatenate([p.visible for p in parts]), parts[0].size)
