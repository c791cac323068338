"""Counterfactual clips: "what would the model say if the clip were different?"

`edit(clip, op, ...)` changes a uint8 clip (T, H, W, C) in one of a few ways and returns a new
clip (the input is never changed); `smallest_flip` finds the fewest frames whose removal changes
the model's prediction. Both are pure functions: widgets and tests call them directly.
"""
from __future__ import annotations

import itertools

import numpy as np

from labkit.errors import LabkitError

OPS = ("drop", "duplicate", "freeze", "reverse", "shuffle", "mask", "swap")


def _frames(clip: np.ndarray, frames, what: str) -> list[int]:
    """The frame indices `frames` names (ints, counted from 0; negative from the end), checked."""
    T = len(clip)
    picked = [int(f) for f in np.atleast_1d(frames)] if frames is not None else []
    bad = [f for f in picked if not -T <= f < T]
    if bad or not picked:
        raise LabkitError(f"edit {what}: frames={frames!r} must name frames of the clip (0..{T - 1})")
    return sorted({f % T for f in picked})


def edit(clip: np.ndarray, op: str, frames=None, box=None, other: np.ndarray | None = None,
         source: int | None = None, seed: int = 0) -> np.ndarray:
    """A changed copy of `clip` uint8 (T, H, W, C).

    op: "drop" `frames` (the clip gets shorter); "duplicate" `frames` (each repeated once, in
    place); "freeze" from frame `frames[0]` on (every later frame replaced by it); "reverse" the
    clip (or only the span from min to max of `frames`); "shuffle" `frames` among themselves (all
    frames if None; the order drawn from `seed`); "mask" the region `box` = (top, left, height,
    width) in every frame with the clip's mean colour; "swap" frame `frames[0]` for frame
    `source` of the clip `other` (resized frames must match).
    """
    clip = np.asarray(clip)
    if op not in OPS:
        raise LabkitError(f"unknown edit {op!r}; choose one of {list(OPS)}")
    if clip.ndim != 4 or clip.dtype != np.uint8:
        raise LabkitError(f"edit: clip must be uint8 (T, H, W, C); got {clip.dtype} {clip.shape}")
    return _EDITS[op](clip.copy(), frames, box, other, source, seed)


def _drop(clip, frames, *_):
    gone = _frames(clip, frames, "drop")
    if len(gone) == len(clip):
        raise LabkitError("edit drop: dropping every frame leaves no clip; keep at least one")
    return np.delete(clip, gone, axis=0)


def _duplicate(clip, frames, *_):
    twice = set(_frames(clip, frames, "duplicate"))
    return np.repeat(clip, [2 if t in twice else 1 for t in range(len(clip))], axis=0)


def _freeze(clip, frames, *_):
    start = _frames(clip, frames, "freeze")[0]
    clip[start:] = clip[start]
    return clip


def _reverse(clip, frames, *_):
    span = [0, len(clip) - 1] if frames is None else _frames(clip, frames, "reverse")
    lo, hi = span[0], span[-1]
    clip[lo:hi + 1] = clip[lo:hi + 1][::-1]
    return clip


def _shuffle(clip, frames, box, other, source, seed):
    picked = list(range(len(clip))) if frames is None else _frames(clip, frames, "shuffle")
    clip[picked] = clip[np.random.default_rng(seed).permutation(picked)]
    return clip


def _mask(clip, frames, box, *_):
    if box is None or len(box) != 4 or min(box) < 0:
        raise LabkitError(f"edit mask: box={box!r}; give (top, left, height, width) in pixels")
    top, left, h, w = (int(v) for v in box)
    clip[:, top:top + h, left:left + w] = clip.reshape(-1, clip.shape[-1]).mean(0).round().astype(np.uint8)
    return clip


def _swap(clip, frames, box, other, source, seed):
    if other is None or source is None:
        raise LabkitError("edit swap: give other= (a clip) and source= (which of its frames)")
    other = np.asarray(other)
    if other.shape[1:] != clip.shape[1:]:
        raise LabkitError(f"edit swap: the other clip's frames are {other.shape[1:]}, this clip's {clip.shape[1:]}")
    clip[_frames(clip, frames, "swap")[0]] = other[_frames(other, source, "swap source")[0]]
    return clip


_EDITS = {"drop": _drop, "duplicate": _duplicate, "freeze": _freeze, "reverse": _reverse, "shuffle": _shuffle,
          "mask": _mask, "swap": _swap}


def smallest_flip(model, clip: np.ndarray, frame_scores=None, exhaustive_up_to: int = 0) -> list[int] | None:
    """The fewest frames whose removal (`edit(clip, "drop", ...)`) changes the model's prediction,
    or None when no set of frames does (short of removing them all).

    Greedy, guided by frame importance: frames are removed in the order of `frame_scores` (T,)
    (default: each frame's own effect, the drop in the predicted class's probability when it
    alone is removed) until the prediction changes; then every removed frame that is not needed
    is put back, and two removed frames are traded for one while that still flips it; when the
    importance order never flips the prediction, a greedy pass that re-measures after every
    removal is tried. `exhaustive_up_to`: for clips of at most that many frames, search every subset
    by size instead (exact; 2^T predictions).
    """
    clip = np.asarray(clip)
    T = len(clip)
    predicted = int(model.predict_proba(clip)[0].argmax())

    def flips(removed) -> bool:
        return len(removed) < T and int(model.predict_proba(edit(clip, "drop", list(removed)))[0].argmax()) != predicted

    if T <= exhaustive_up_to:
        return next((list(s) for k in range(1, T) for s in itertools.combinations(range(T), k) if flips(s)), None)
    if frame_scores is None:
        base = model.predict_proba(clip)[0][predicted]
        frame_scores = [base - model.predict_proba(edit(clip, "drop", [t]))[0][predicted] for t in range(T)]
    removed = _greedy(np.argsort(-np.asarray(frame_scores), kind="stable"), flips) or \
        _adaptive(model, clip, predicted, flips)
    if removed is None:
        return None
    for t in list(removed):  # prune: a frame the flip does not need goes back
        if len(removed) > 1 and flips([r for r in removed if r != t]):
            removed.remove(t)
    return sorted(_trade_down(removed, T, flips))


def _greedy(order, flips) -> list[int] | None:
    """Remove frames in `order` until the prediction flips: the removed frames, or None."""
    removed = []
    for t in order:
        removed.append(int(t))
        if flips(removed):
            return removed
    return None


def _adaptive(model, clip: np.ndarray, predicted: int, flips) -> list[int] | None:
    """Greedy again, re-measuring at each step: remove the frame whose removal lowers the
    predicted class's probability most, given the frames already removed (T^2 predictions;
    the fallback when the importance order alone never flips)."""
    removed, T = [], len(clip)
    while len(removed) < T - 1:
        rest = [t for t in range(T) if t not in removed]
        probs = [model.predict_proba(edit(clip, "drop", [*removed, t]))[0][predicted] for t in rest]
        removed.append(rest[int(np.argmin(probs))])
        if flips(removed):
            return removed
    return None


def _trade_down(removed: list[int], T: int, flips) -> list[int]:
    """Local search after the greedy pass: while two removed frames can be traded for one other
    frame and the prediction still flips, trade (the greedy order can overshoot)."""
    improved = True
    while improved and len(removed) > 1:
        improved = False
        for a, b in itertools.combinations(removed, 2):
            rest = [r for r in removed if r not in (a, b)]
            swap = next((c for c in range(T) if c not in removed and flips([*rest, c])), None)
            if swap is not None or (rest and flips(rest)):
                removed = [*rest, swap] if swap is not None else rest
                improved = True
                break
    return removed
