"""Vectorised drawing shared by the synthetic tasks: textured backgrounds and sprites pasted
(with wrap-around) into every frame of a batch of clips. No Python loop over pixels or clips."""
from __future__ import annotations

import numpy as np


def upsample_matrix(src: int, dst: int) -> np.ndarray:
    """float32 (dst, src): bilinear interpolation weights, so `A @ x @ A.T` upsamples (src, src) -> (dst, dst)."""
    centres = (np.arange(dst) + 0.5) * src / dst - 0.5
    lo = np.clip(np.floor(centres).astype(int), 0, src - 1)
    hi = np.clip(lo + 1, 0, src - 1)
    w = np.clip(centres - lo, 0.0, 1.0).astype(np.float32)
    A = np.zeros((dst, src), np.float32)
    A[np.arange(dst), lo] += 1 - w
    A[np.arange(dst), hi] += w
    return A


def texture(rng: np.random.Generator, n: int, size: int, level=(60.0, 150.0), contrast: float = 40.0,
            saturation: float = 0.5) -> np.ndarray:
    """uint8 (n, size, size, 3): a smooth random texture per clip (coarse blobs + finer grain).

    `level` is the range of each clip's mean brightness, `contrast` the texture's amplitude and
    `saturation` how coloured it is (0: grey).
    """
    scales = ((4, 1.0), (max(size // 8, 4), 0.6), (max(size // 3, 4), 0.35))  # (grid cells, amplitude)
    A = np.concatenate([amp * upsample_matrix(cells, size) for cells, amp in scales], axis=1)  # (size, S)
    S = A.shape[1]
    # one noise grid per scale, on the diagonal blocks of an (S, S) grid: A @ X @ A.T sums the scales
    X = np.zeros((n, 3, S, S), np.float32)
    lo = 0
    for cells, _ in scales:
        block = slice(lo, lo + cells)
        X[:, :, block, block] = rng.standard_normal((n, 1, cells, cells), dtype=np.float32) \
            + saturation * rng.standard_normal((n, 3, cells, cells), dtype=np.float32)
        lo += cells
    out = A @ X @ A.T  # (n, C, H, W): batched products, much faster here than tensordot's copies
    out *= contrast
    out += rng.uniform(*level, size=(n, 1, 1, 1)).astype(np.float32)
    np.clip(out, 0, 255, out=out)
    return np.ascontiguousarray(out.astype(np.uint8).transpose(0, 2, 3, 1))  # (n, H, W, C)


def disc(radius: np.ndarray, P: int) -> np.ndarray:
    """float32 (n, P, P): anti-aliased discs of the given radii (n,), centred in a P x P patch."""
    r = np.arange(P, dtype=np.float32) - (P - 1) / 2
    dist = np.sqrt(r[:, None] ** 2 + r[None, :] ** 2)  # (P, P)
    return np.clip(radius[:, None, None] + 0.5 - dist, 0.0, 1.0).astype(np.float32)


def paste(frames: np.ndarray, alpha: np.ndarray, colour: np.ndarray, pos: np.ndarray,
          visible: np.ndarray | None = None) -> None:
    """Alpha-blend one sprite per clip into its frames, in place, wrapping at the borders.

    frames: uint8 (n, T, H, W, 3); alpha: float (n, P, P) in [0, 1]; colour: float (n, 3);
    pos: int (n, T, 2) top-left (row, col) per frame; visible: bool (n, T) or None (all frames).
    Only the m visible (clip, frame) pairs are touched.
    """
    n, T, H, W, _ = frames.shape
    P = alpha.shape[-1]
    ci, ti = np.nonzero(np.ones((n, T), bool) if visible is None else visible)  # (m,), (m,)
    weight = np.rint(alpha * 128).astype(np.int16)[ci]  # (m, P, P) alpha in 0..128
    inside = weight > 0  # only pixels the sprite covers are read and written
    offs = np.arange(P)
    rows = (pos[ci, ti, 0, None] + offs) % H  # (m, P)
    cols = (pos[ci, ti, 1, None] + offs) % W  # (m, P)
    first = (ci * T + ti) * (H * W)  # (m,) first pixel of each frame
    flat = (first[:, None, None] + rows[:, :, None] * W + cols[:, None, :])[inside]  # (k,) pixel ids
    a = weight[inside][:, None]  # (k, 1)
    c = np.repeat(np.rint(colour).astype(np.int16)[ci], inside.sum((1, 2)), axis=0)  # (k, 3)
    pixels = frames.reshape(-1, 3)  # a view: writes land in `frames`
    patch = np.take(pixels, flat, axis=0).astype(np.int16)  # (k, 3)
    patch += (a * (c - patch) + 64) >> 7  # integer blend, rounded: patch + alpha * (colour - patch)
    pixels[flat] = patch.astype(np.uint8)


def moving_positions(rng: np.random.Generator, direction: np.ndarray, frames: int, size: int,
                     speed=(1.0, 2.5)) -> np.ndarray:
    """int16 (n, T, 2): top-left positions of sprites moving in one of 8 directions.

    direction: int (n,) in 0..7, counter-clockwise from "right" in 45-degree steps. The start is
    uniform over the whole (wrapping) frame and the speed (pixels per frame at size 64, scaled
    with size) is drawn independently of the direction, so the position in any single frame is
    uniform and independent of the direction: one frame alone carries no class information.
    """
    n = len(direction)
    angle = direction * (np.pi / 4)
    step = np.stack([-np.sin(angle), np.cos(angle)], axis=1)  # (n, 2) row/col; rows grow downwards
    step = np.round(step, 6) * (rng.uniform(*speed, size=n) * size / 64)[:, None]
    start = rng.uniform(0, size, size=(n, 2))
    t = np.arange(frames)[None, :, None]
    return (np.floor(start[:, None, :] + t * step[:, None, :]) % size).astype(np.int16)  # (n, T, 2)
