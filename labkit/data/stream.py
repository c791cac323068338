"""Reading a long video frame by frame, in constant memory: `stream_frames` yields (seconds,
frame) as PyAV decodes, so a minutes-long video is scanned without ever being held whole; and
`sliding_windows` turns that stream into overlapping `Window`s of frames.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import av
import numpy as np
from PIL import Image

from .decode import _decoding, to_square
from .layout import frame_files
from .problems import DataError


def stream_frames(path, size: int, crop: str | None = None) -> Iterator[tuple[float, np.ndarray]]:
    """(time in seconds, uint8 (size, size, 3) frame) for every frame of a video, as it decodes.

    A frame folder streams too (its frames at 1 frame per second of "time": it has no clock).
    Any failure is a DataError naming the file, raised where it happens in the stream.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(path, "does not exist", "check the path")
    if path.is_dir():
        for t, f in enumerate(frame_files(path)):
            with _decoding(f, "image"), Image.open(f) as img:
                yield float(t), to_square(img, size, crop)
        return
    with _decoding(path, "video"), av.open(str(path)) as container:
        if not container.streams.video:
            raise DataError(path, "has no video stream", "re-export it as a video, or remove it")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        start = None
        for i, frame in enumerate(container.decode(stream)):
            t = frame.time if frame.time is not None else i / float(stream.average_rate or 1)
            start = t if start is None else start
            yield t - start, to_square(frame.to_image(), size, crop)


def frame_rate(path) -> float | None:
    """The video's average frames per second from its header (None for a frame folder or when unknown)."""
    path = Path(path)
    if path.is_dir():
        return None
    with _decoding(path, "video"), av.open(str(path)) as container:
        if not container.streams.video:
            raise DataError(path, "has no video stream", "re-export it as a video, or remove it")
        rate = container.streams.video[0].average_rate
        return float(rate) if rate else None


@dataclass(frozen=True)
class Window:
    """One window of a stream: frames first..last (inclusive, counted from 0), from `start` to
    `end` seconds (where its last frame ends), and its frames uint8 (last - first + 1, H, W, C)."""

    first: int
    last: int
    start: float
    end: float
    frames: np.ndarray


def sliding_windows(frames: Iterator[tuple[float, np.ndarray]], window: int, stride: int) -> Iterator[Window]:
    """Windows of `window` consecutive frames every `stride` frames. Only the last `window`
    frames are held, so memory does not grow with the stream; a stream shorter than one window
    yields one window of what there is."""
    if window < 1 or stride < 1:
        raise DataError("window/stride", f"window={window} and stride={stride} must both be >= 1",
                        "use a window of at least one frame")
    held: deque = deque(maxlen=window)  # (index, time, frame)
    since, done, step = 0, False, 0.0
    for i, (t, frame) in enumerate(frames):
        step = t - held[-1][1] if held else step  # a frame's duration, to say where a window ends
        held.append((i, t, frame))
        since += 1
        if len(held) == window and (not done or since >= stride):
            since, done = 0, True
            yield _window(held, step)
    if not done and held:  # shorter than one window: the whole stream
        yield _window(held, step)


def _window(held: deque, step: float) -> Window:
    return Window(held[0][0], held[-1][0], held[0][1], held[-1][1] + step, np.stack([f for _, _, f in held]))
