"""`recall`: remember the first colour for `span` frames. The memory span is the controlled variable.

A clip starts with empty frames (only the background); then a coloured square appears (the
*cue*); from then on every frame shows a square like it (the *distractors*) at a random place,
and a few frames show none. The class is the colour of the cue. The cue stands `span` frames
before the end of the clip, so a model that reads the clip in order must carry its colour through
`span` frames of squares that look exactly like it but decide nothing.

No shortcut works: every clip shows each colour the same number of times (the cue included), so
the set of frames says nothing about the class and a frame-only model (a CNN and a mean over
time) stays at chance; the last square is a random one. What a model needs is order and memory:
keep the first colour, ignore the rest. Each colour appearing equally often needs
span + 1 >= colours (the cue and at least one square of every other colour).

Evidence: the cue square, in its frame.
"""
from __future__ import annotations

import numpy as np

from labkit.errors import LabkitError

from ..evidence import Evidence
from .render import paste, texture

PALETTE = {"red": (235.0, 40.0, 40.0), "green": (40.0, 200.0, 60.0), "blue": (40.0, 80.0, 245.0),
           "yellow": (240.0, 215.0, 40.0), "magenta": (220.0, 50.0, 220.0), "cyan": (40.0, 215.0, 225.0)}
OPTIONS = {"span": None, "colours": 4, "square_size": (12.0, 16.0)}


def classes(colours: int = 4, **options) -> list[str]:
    return list(PALETTE)[:int(colours)]


def _span(span, frames: int) -> int:
    return max(0, frames // 2) if span is None else int(span)


def resolve(frames: int, span=None, **rest) -> dict:
    """The options in effect: span None becomes frames // 2."""
    return {"span": _span(span, frames), **rest}


def check(frames: int, size: int, span=None, colours=4, square_size=(12.0, 16.0)) -> None:
    """Raise LabkitError naming the option when the clip cannot hold the cue and its span."""
    colours = int(colours)
    if not 2 <= colours <= len(PALETTE):
        raise LabkitError(f"recall: colours={colours} must lie in 2..{len(PALETTE)}")
    k = _span(span, frames)
    if not colours - 1 <= k <= frames - 1:
        raise LabkitError(f"recall: span={span} must lie in {colours - 1}..frames-1={frames - 1}: the cue needs at "
                          f"least one frame before the end for every other colour, and must fit in the clip; "
                          f"change span, frames or colours")


def event_colours(rng: np.random.Generator, labels: np.ndarray, frames: int, span: int, colours: int) -> np.ndarray:
    """int (n, T): the colour of the square in each frame (-1: none).

    Frames before the cue (frame T-1-span) are empty; the cue has the label's colour; the span
    frames after it hold the other squares, shuffled, and a few empty frames, so that each clip
    shows every colour exactly (span + 1) // colours times, independently of its label.
    """
    n, T = len(labels), frames
    per = (span + 1) // colours
    pool = np.concatenate([np.repeat(np.arange(colours), per), np.full(span + 1 - per * colours, -1)])  # (span+1,)
    rest = np.broadcast_to(pool, (n, span + 1)).copy()
    first = np.argmax(rest == labels[:, None], axis=1)  # (n,) one copy of the label's colour: the cue's
    rest[np.arange(n), first] = rest[:, -1]
    rest = rest[:, :-1]  # (n, span): the distractors and blanks
    rest = np.take_along_axis(rest, rng.random(rest.shape).argsort(axis=1), axis=1)
    out = np.full((n, T), -1, np.int64)
    out[:, T - 1 - span] = labels
    out[:, T - span:] = rest
    return out


def generate(rng: np.random.Generator, labels: np.ndarray, out: np.ndarray, span=None, colours=4,
             square_size=(12.0, 16.0)) -> tuple[Evidence, None]:
    """labels (n,) colour indices; fills out uint8 (n, T, H, W, 3); returns the evidence, no groups."""
    n, T, size = out.shape[0], out.shape[1], out.shape[2]
    span, colours = _span(span, T), int(colours)
    seq = event_colours(rng, labels, T, span, colours)  # (n, T)
    side = np.round(rng.uniform(*square_size, size=n) * size / 64).astype(int).clip(2, size)
    P = int(np.round(square_size[1] * size / 64))
    square = (np.arange(P)[None, :, None] < side[:, None, None]) & (np.arange(P)[None, None, :] < side[:, None, None])
    out[:] = texture(rng, n, size, level=(50.0, 110.0), contrast=25.0, saturation=0.1)[:, None]
    pos = rng.integers(0, size - side[:, None, None] + 1, size=(n, T, 2)).astype(np.int16)  # (n, T, 2) top-left
    alpha = square.astype(np.float32)
    for c, colour in enumerate(list(PALETTE.values())[:colours]):
        paste(out, alpha, np.broadcast_to(np.float32(colour), (n, 3)), pos, seq == c)
    cue = np.zeros((n, T), bool)
    cue[:, T - 1 - span] = True
    return Evidence(footprint=square[:, None], pos=pos[:, None], visible=cue[:, None], size=size), None
