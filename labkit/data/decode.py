"""Reading one clip: a video (PyAV) or a folder of frame images (Pillow) -> uint8 (T, size, size, 3) RGB.

Frames are resized as whole frames to size x size (or a centre square crop first, `crop="center"`)
and sampled uniformly in time to `frames` (or all kept, `frames=None`). Failures raise DataError
naming the file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import av
import numpy as np
from PIL import Image, UnidentifiedImageError

from .layout import frame_files
from .problems import DataError

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


def _decode_video(path: Path, convert: Callable[[av.VideoFrame], object]) -> tuple[list, dict]:
    """Decode every frame of a video -> ([convert(frame)], {height, width, fps}); DataError naming the file."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise DataError(path, "has no video stream", "re-export it as a video, or remove it")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # let the codec decode with several threads
            out = [convert(frame) for frame in container.decode(stream)]
            fps = stream.average_rate
            # frames the header promises: counted (mp4, avi) or implied by the duration (mkv, webm)
            declared = stream.frames
            if not declared and container.duration and fps:
                declared = round(container.duration / 1e6 * float(fps))
            meta = {"height": stream.codec_context.height, "width": stream.codec_context.width,
                    "fps": float(fps) if fps else None}
    except av.error.FFmpegError as e:
        raise DataError(path, f"cannot be decoded ({type(e).__name__}: {e.strerror or e}); the file is corrupt, "
                              "truncated or not a video",
                        "re-export it (e.g. ffmpeg -i in.avi out.mp4) or remove it") from None
    if declared > 0 and len(out) < 0.9 * declared:
        raise DataError(path, f"is truncated: its header promises {declared} frames but only {len(out)} decode",
                        "re-export or re-download it, or remove it")
    return out, meta


def _read_image(f: Path, convert: Callable[[Image.Image], object]):
    """convert(the opened image at f); DataError naming the file if it is not a readable image."""
    try:
        with Image.open(f) as img:
            return convert(img)
    except (UnidentifiedImageError, OSError) as e:
        raise DataError(f, f"is not a readable image ({e})", "replace or delete this frame") from None


def read_clip(path, frames: int | None, size: int, crop: str | None = None) -> np.ndarray:
    """Decode the video or frame folder at `path` -> uint8 (frames or all T, size, size, 3)."""
    path = Path(path)
    if not path.exists():
        raise DataError(path, "does not exist", "check the path")
    if path.is_dir():
        images = [_read_image(f, lambda img: to_square(img, size, crop)) for f in frame_files(path)]
    else:
        images, _ = _decode_video(path, lambda frame: to_square(frame.to_image(), size, crop))
    if not images:
        raise DataError(path, "holds no frames", "re-export it or remove it")
    if frames is not None and len(images) < frames:
        raise DataError(path, f"has {len(images)} frames, fewer than frames={frames}",
                        f"load with frames<={len(images)}, or frames=None to keep every frame (variable length)")
    if frames is not None:
        images = [images[i] for i in sample_indices(len(images), frames)]
    return np.stack(images)  # (T, size, size, 3)


def probe(path) -> dict:
    """What a clip holds, without resizing: {frames, height, width, fps} (fps None for frame
    folders). Videos are decoded in full, so corrupt or truncated files raise DataError here."""
    path = Path(path)
    if path.is_dir():
        sizes = [_read_image(f, lambda img: (img.verify(), img.size)[1]) for f in frame_files(path)]
        if not sizes:
            raise DataError(path, "holds no frames", "add frames or remove it")
        return {"frames": len(sizes), "height": sizes[0][1], "width": sizes[0][0], "fps": None}
    frames, meta = _decode_video(path, lambda frame: None)  # decode only: proves the file is whole
    if not frames:
        raise DataError(path, "holds no frames", "re-export it or remove it")
    return {"frames": len(frames), **meta}
