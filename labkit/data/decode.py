"""Reading one clip: a video (PyAV) or a folder of frame images (Pillow) -> uint8 (T, size, size, 3) RGB.

Frames are resized as whole frames to size x size (or a centre square crop first, `crop="center"`)
and sampled uniformly in time to `frames` (or all kept, `frames=None`). Frame counts come from
decoding, not the header (variable frame rates and audio that outlasts the video are fine). Any
failure, whatever PyAV or Pillow raises, is a DataError naming the file.
"""
from __future__ import annotations

from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Callable

import av
import numpy as np
from PIL import Image

from .layout import frame_files
from .problems import DataError, os_error

CROPS = (None, "center")


def sample_indices(length: int, frames: int) -> np.ndarray:
    """int (frames,): uniform temporal sampling, the centre frame of each of `frames` equal segments of `length`."""
    return np.floor((np.arange(frames) + 0.5) * length / frames).astype(np.int64)


def to_square(img: Image.Image, size: int, crop: str | None) -> np.ndarray:
    """A PIL image -> uint8 (size, size, 3) RGB: the whole frame resized, or its centre square (crop="center")."""
    img = img.convert("RGB")
    w, h = img.size
    box = (0, 0, w, h)
    if crop == "center":
        s = min(w, h)
        box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
    return np.asarray(img.resize((size, size), Image.BILINEAR, box=box, reducing_gap=2.0))


def _failure(path: Path, e: Exception, kind: str) -> DataError:
    """The DataError for what a decoder (PyAV, Pillow) raised on the file at `path`; kind: video or image."""
    if isinstance(e, PermissionError) or (isinstance(e, OSError) and e.errno is not None
                                          and not isinstance(e, av.error.FFmpegError)):
        return os_error(path, e)  # the file system, not the file's content: unreadable, not "corrupt"
    if isinstance(e, Image.DecompressionBombError):
        return DataError(path, f"is too large to decode safely ({e})",
                         "downscale it; if you trust the file, raise PIL.Image.MAX_IMAGE_PIXELS")
    if isinstance(e, UnicodeDecodeError):
        return DataError(path, f"has a damaged header: its metadata is not valid text ({e})",
                         "re-export it, e.g. ffmpeg -i in.mp4 -map_metadata -1 -c copy out.mp4, or remove it")
    why = f"{type(e).__name__}: {getattr(e, 'strerror', None) or e}"
    if kind == "image":
        return DataError(path, f"is not a readable image ({why})", "replace or delete this frame")
    return DataError(path, f"cannot be decoded ({why}); the file is corrupt, truncated or not a video",
                     "re-export it (e.g. ffmpeg -i in.avi out.mp4) or remove it")


@contextmanager
def _decoding(path: Path, kind: str):
    """Turn anything a decoder raises on `path` into a DataError naming it. PyAV and Pillow raise
    many types on damaged files (OSError, ValueError, SyntaxError, UnicodeDecodeError, ...)."""
    try:
        yield
    except DataError:
        raise
    except Exception as e:
        raise _failure(path, e, kind) from e


def _seconds(value, unit) -> float | None:
    """value * unit in seconds (PyAV timestamps and durations), None if either is unknown."""
    return float(value * unit) if value and unit else None


def _declared_length(container, stream) -> float | None:
    """Seconds of video the header declares: the stream's own duration, else the file's when the
    video is its only stream (the file's may be an audio track that outlasts the video); None if unknown."""
    own = _seconds(stream.duration, stream.time_base)
    if own is None and len(container.streams) == 1:
        own = _seconds(container.duration, Fraction(1, av.time_base))
    return own


def _decoded_length(first, last, count: int) -> float | None:
    """Seconds that `count` decoded frames cover, from the timestamps of the first and the last
    (exact for variable frame rates): the last one's start plus its duration (else the mean gap)."""
    if first is None or first.time is None or last.time is None:
        return None
    gap = _seconds(last.duration, last.time_base) or ((last.time - first.time) / (count - 1) if count > 1 else 0.0)
    return last.time + gap - first.time


def _decode_video(path: Path, convert: Callable[[av.VideoFrame], object]) -> tuple[list, dict]:
    """Decode every frame of a video -> ([convert(frame)], {height, width, fps}); DataError naming the file.
    The frame count is what decodes; the header only serves to notice a file cut short."""
    with _decoding(path, "video"), av.open(str(path)) as container:
        if not container.streams.video:
            raise DataError(path, "has no video stream", "re-export it as a video, or remove it")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # let the codec decode with several threads
        out, first, frame = [], None, None
        for frame in container.decode(stream):
            out.append(convert(frame))
            first = frame if first is None else first
        declared, decoded = _declared_length(container, stream), _decoded_length(first, frame, len(out))
        fps = stream.average_rate
        meta = {"height": stream.codec_context.height, "width": stream.codec_context.width,
                "fps": float(fps) if fps else None}
    if declared and decoded is not None and decoded < 0.9 * declared:
        raise DataError(path, f"is truncated: its header says the video lasts {declared:.2f} s but its "
                              f"{len(out)} frames decode only to {decoded:.2f} s",
                        "re-export or re-download it, or remove it")
    return out, meta


def _read_image(f: Path, convert: Callable[[Image.Image], object]):
    """The image at f -> ((width, height), convert(image)); DataError naming the file if it cannot be read."""
    with _decoding(f, "image"), Image.open(f) as img:
        return img.size, convert(img)


def _frame_folder(folder: Path, convert: Callable[[Image.Image], object]) -> tuple[list, tuple | None]:
    """[convert(image)] for every frame of a frame folder, and their (width, height); DataError
    naming the folder if the frames differ in size (resizing each alone would stretch some)."""
    files = frame_files(folder)
    read = [_read_image(f, convert) for f in files]
    first = {}  # (width, height) -> the first frame of that size
    for f, (size, _) in zip(files, read):
        first.setdefault(size, f)
    if len(first) > 1:
        shown = ", ".join(f"{f.name} is {w}x{h}" for (w, h), f in list(first.items())[:3])
        raise DataError(folder, f"holds frames of different sizes ({shown})",
                        "resize every frame of the clip to one size, or split the folder")
    return [value for _, value in read], next(iter(first), None)


def read_clip(path, frames: int | None, size: int, crop: str | None = None) -> np.ndarray:
    """Decode the video or frame folder at `path` -> uint8 (frames or all T, size, size, 3)."""
    return load_clip(path, frames, size, crop)[0]


def load_clip(path, frames: int | None, size: int, crop: str | None = None) -> tuple[np.ndarray, dict]:
    """`read_clip`, and what the file held: {"frames": decoded frame count, "fps": frames per
    second (None for a frame folder), "seconds": its length (None without a frame rate)}."""
    path = Path(path)
    if not path.exists():
        raise DataError(path, "does not exist", "check the path")
    if path.is_dir():
        images, _ = _frame_folder(path, lambda img: to_square(img, size, crop))
        fps = None
    else:
        images, meta = _decode_video(path, lambda frame: to_square(frame.to_image(), size, crop))
        fps = meta["fps"]
    if not images:
        raise DataError(path, "holds no frames", "re-export it or remove it")
    if frames is not None and len(images) < frames:
        raise DataError(path, f"has {len(images)} frames, fewer than frames={frames}",
                        f"load with frames<={len(images)}, or frames=None to keep every frame (variable length)")
    info = {"frames": len(images), "fps": fps, "seconds": len(images) / fps if fps else None}
    if frames is not None:
        images = [images[i] for i in sample_indices(len(images), frames)]
    return np.stack(images), info  # (T, size, size, 3)


def probe(path) -> dict:
    """What a clip holds, without resizing: {frames, height, width, fps} (fps None for frame
    folders). Videos are decoded in full, so corrupt or truncated files raise DataError here."""
    path = Path(path)
    if path.is_dir():
        checked, size = _frame_folder(path, lambda img: img.verify())
        if not checked:
            raise DataError(path, "holds no frames", "add frames or remove it")
        return {"frames": len(checked), "height": size[1], "width": size[0], "fps": None}
    frames, meta = _decode_video(path, lambda frame: None)  # decode only: proves the file is whole
    if not frames:
        raise DataError(path, "holds no frames", "re-export it or remove it")
    return {"frames": len(frames), **meta}
