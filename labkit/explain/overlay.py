"""Explanations to take away: the clip with its heatmap overlaid frame by frame, and a bar of frame
importance along the bottom, written as a video (PyAV) or an animated GIF (Pillow) for a talk
or a paper. (The interactive standalone page is `viz.explanation_page`.)"""
from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from PIL import Image

from labkit.errors import LabkitError

from .attribution import Attribution

FORMATS = (".mp4", ".gif")
# viridis at five stops (colour-blind-safe, and unlike the tasks' red and blue squares)
_STOPS = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], np.float32)
BAR_HEIGHT = 0.18  # share of the frame height taken by the frame-importance bar


def colourise(values: np.ndarray) -> np.ndarray:
    """float values in [0, 1] (any shape) -> uint8 RGB (..., 3) along viridis."""
    v = np.clip(values, 0, 1) * (len(_STOPS) - 1)
    lo = np.floor(v).astype(int).clip(0, len(_STOPS) - 2)
    w = (v - lo)[..., None]
    return (_STOPS[lo] * (1 - w) + _STOPS[lo + 1] * w).round().astype(np.uint8)


def overlay_frames(clip: np.ndarray, maps: np.ndarray, scores: np.ndarray, scale: int = 4,
                   opacity: float = 0.6) -> np.ndarray:
    """uint8 clip (T, H, W, 3) and |attribution| maps (T, H, W), frame scores (T,) -> uint8
    (T, H*scale + bar, W*scale, 3): each frame enlarged, its heatmap blended in where the
    attribution is strong (scaled by the peak over the whole clip, so frames compare), and the
    frame-importance bars under it with the current frame's bar highlighted."""
    T, H, W, _ = clip.shape
    strength = np.abs(maps) / max(float(np.abs(maps).max()), 1e-12)  # (T, H, W) in [0, 1]
    alpha = (opacity * strength)[..., None]
    blended = clip * (1 - alpha) + colourise(strength) * alpha  # (T, H, W, 3)
    big = np.repeat(np.repeat(blended, scale, axis=1), scale, axis=2).round().astype(np.uint8)
    bar = max(8, int(BAR_HEIGHT * H * scale))
    bar += (H * scale + bar) % 2  # an even height in all: 4:2:0 video needs no padding row
    return np.concatenate([big, _bars(scores, W * scale, bar)], axis=1)


def _bars(scores: np.ndarray, width: int, height: int) -> np.ndarray:
    """uint8 (T, height, width, 3): for frame t, every frame's importance as a bar, bar t highlighted,
    and a dark marker over its column in the top two rows (the bars never reach them): a playhead,
    so every frame differs even where the clip does not (a GIF writer merges identical frames)."""
    T = len(scores)
    s = np.asarray(scores, np.float32)
    s = (s - min(0.0, s.min())) / max(float(np.ptp(s)) if s.min() < 0 else float(s.max()), 1e-12)
    cols = np.minimum(np.arange(width) * T // width, T - 1)  # which frame each pixel column shows
    tall = np.round(s[cols] * (height - 2)).astype(int)  # (width,) bar heights
    filled = np.arange(height)[::-1, None] < tall[None, :]  # (height, width)
    out = np.full((T, height, width, 3), 255, np.uint8)
    for t in range(T):  # one small image per frame
        colour = np.where((cols == t)[None, :, None], [[[33, 145, 140]]], [[[190, 190, 190]]])
        out[t][filled] = np.broadcast_to(colour, (height, width, 3))[filled]
        out[t, :2, cols == t] = (40, 40, 40)
    return out


def export(clip: np.ndarray, attribution: Attribution, path, index: int = 0, fps: float = 4.0,
           scale: int = 4) -> Path:
    """Write clip `index` of an explained batch (clip uint8 (T, H, W, C) or (N, T, H, W, C)) with
    its heatmap, frame by frame, to `path` (.mp4 or .gif); returns the path. Frames run at `fps`."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise LabkitError(f"{path}: export writes {' or '.join(FORMATS)}; for an interactive page use "
                          f"viz.explanation_page")
    if path.is_dir():
        raise LabkitError(f"{path} is a folder; name a file, e.g. {path / 'explained.mp4'}")
    if not fps > 0 or scale < 1:
        raise LabkitError(f"fps={fps} and scale={scale} must be positive")
    clip = np.asarray(clip)
    clip = clip[index] if clip.ndim == 5 else clip
    frames = overlay_frames(clip, attribution.abs_maps[index], attribution.frame_scores[index], scale)
    path.parent.mkdir(parents=True, exist_ok=True)
    (_write_gif if path.suffix.lower() == ".gif" else _write_mp4)(frames, path, fps)
    return path


def _write_gif(frames: np.ndarray, path: Path, fps: float) -> None:
    images = [Image.fromarray(f) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)


def _write_mp4(frames: np.ndarray, path: Path, fps: float) -> None:
    T, H, W, _ = frames.shape
    frames = np.pad(frames, ((0, 0), (0, H % 2), (0, W % 2), (0, 0)), mode="edge")  # 4:2:0 needs even sides
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=int(round(fps)) or 1, options={"crf": "18"})
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        for f in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")))
        out.mux(stream.encode())
