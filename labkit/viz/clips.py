"""Clips as pictures: a strip of frames side by side, and an animated player.

Frames travel as small PNG data URIs inside `go.Image(source=...)`, so a 16-frame 64x64 clip
costs a few tens of kB in a notebook instead of a nested list of every pixel value.
"""
from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from labkit.errors import LabkitError


def as_rgb(frames: np.ndarray) -> np.ndarray:
    """uint8 frames (..., H, W) or (..., H, W, 1|3) -> uint8 (..., H, W, 3)."""
    a = np.asarray(frames)
    if a.dtype != np.uint8:
        raise LabkitError(f"frames must be uint8 as datasets hold them; got dtype {a.dtype}")
    if a.ndim >= 3 and a.shape[-1] == 3:
        return a
    if a.ndim >= 3 and a.shape[-1] == 1:
        a = a[..., 0]
    return np.repeat(a[..., None], 3, axis=-1)  # grey -> RGB


def png_uri(frame: np.ndarray) -> str:
    """One uint8 frame (H, W[, C]) -> a `data:image/png;base64,...` URI for go.Image(source=)."""
    buf = io.BytesIO()
    Image.fromarray(as_rgb(frame)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _check_clips(clips) -> np.ndarray:
    """One clip (T, H, W, C) or (T, H, W), or a batch (N, T, H, W, C), uint8 -> (N, T, H, W, 3)."""
    a = np.asarray(clips)
    if a.ndim == 3:  # (T, H, W) grey
        a = a[..., None]
    if a.ndim == 4:
        a = a[None]
    if a.ndim != 5 or a.shape[-1] not in (1, 3):
        raise LabkitError(f"clips must be (T, H, W, C) or (N, T, H, W, C) with C in (1, 3); got shape {a.shape}")
    return as_rgb(a)


def clip_strip(clips, titles: list[str] | None = None, every: int = 1, gap: int = 2,
               title: str | None = None) -> go.Figure:
    """Frames side by side, one row per clip: the whole sequence at a glance.

    clips: one clip (T, H, W, C), several (N, T, H, W, C), or a list of clips of different
    lengths; uint8. `every` keeps every k-th frame; `titles` labels the rows (e.g. class
    names). One go.Image trace per row.
    """
    if isinstance(clips, (list, tuple)):
        rows = [_check_clips(c)[0, ::every] for c in clips]  # each (T_i, H, W, 3)
    else:
        rows = list(_check_clips(clips)[:, ::every])
    n, t = len(rows), max(len(c) for c in rows)
    h, w = rows[0].shape[1:3]
    if titles is not None and len(titles) != n:
        raise LabkitError(f"titles has {len(titles)} entries for {n} clips")
    fig = go.Figure()
    pitch = w + gap
    for r in range(n):
        row = np.full((h, t * pitch - gap, 3), 255, np.uint8)  # white gaps (and after a short clip)
        for k in range(len(rows[r])):
            row[:, k * pitch:k * pitch + w] = rows[r][k]
        y0 = r * (h + gap)
        fig.add_trace(go.Image(source=png_uri(row), x0=0, y0=y0, dx=1, dy=1,
                               name=titles[r] if titles else f"clip {r}", hoverinfo="skip"))
    fig.update_xaxes(tickvals=[k * pitch + w / 2 for k in range(t)],
                     ticktext=[f"t={k * every}" for k in range(t)], showgrid=False, zeroline=False)
    if titles:
        fig.update_yaxes(tickvals=[r * (h + gap) + h / 2 for r in range(n)], ticktext=list(titles))
    else:
        fig.update_yaxes(showticklabels=False)
    fig.update_yaxes(showgrid=False, zeroline=False, scaleanchor="x", autorange="reversed")
    width = min(1100, 60 + t * pitch * max(1.0, 96 / w))
    fig.update_layout(title=title, width=width, height=80 + n * (width - 60) / (t * pitch) * (h + gap),
                      margin=dict(l=60 if titles else 10, r=10, t=40 if title else 10, b=30),
                      plot_bgcolor="white")
    return fig


def class_examples(ds, per_class: int = 1, every: int = 1, title: str | None = None) -> go.Figure:
    """The first `per_class` clips of every class of a dataset, one row each, titled by class:
    what each class looks like over time."""
    labels = np.asarray(ds.labels)
    picks = [(int(i), c) for k, c in enumerate(ds.classes) for i in np.flatnonzero(labels == k)[:per_class]]
    if not picks:
        raise LabkitError("the dataset has no clips to show")
    return clip_strip([ds[i][0] for i, _ in picks], titles=[c for _, c in picks], every=every, title=title)


def play_controls(n_frames: int, duration_ms: int, prefix: str = "t=") -> dict:
    """Layout entries (`updatemenus`, `sliders`) for a play/pause button and a frame slider
    over plotly animation frames named "0".."n-1"; shared by every animated figure."""
    anim = dict(frame=dict(duration=duration_ms, redraw=True), transition=dict(duration=0),
                mode="immediate", fromcurrent=True)
    buttons = [dict(label="▶", method="animate", args=[None, anim]),
               dict(label="❚❚", method="animate",
                    args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate")])]
    steps = [dict(label=str(k), method="animate",
                  args=[[str(k)], dict(frame=dict(duration=0, redraw=True), mode="immediate",
                                       transition=dict(duration=0))]) for k in range(n_frames)]
    return dict(
        updatemenus=[dict(type="buttons", direction="left", x=0, y=0, xanchor="left", yanchor="top",
                          pad=dict(t=45, r=0), showactive=False, buttons=buttons)],
        sliders=[dict(active=0, steps=steps, x=0.2, len=0.8, y=0, yanchor="top", pad=dict(t=30, b=0),
                      currentvalue=dict(prefix=prefix, font=dict(size=12)), font=dict(size=9))],
    )


def clip_player(clip, title: str | None = None, fps: float = 8.0, size: int = 320) -> go.Figure:
    """One clip (T, H, W, C) uint8 as an animation: a frame slider and a play button.

    Trace 0 is a go.Image; frame k of `fig.frames` (named "k") swaps in frame k's picture.
    """
    a = _check_clips(clip)[0]  # (T, H, W, 3)
    t = len(a)
    uris = [png_uri(f) for f in a]
    fig = go.Figure(go.Image(source=uris[0], hoverinfo="skip"),
                    frames=[go.Frame(data=[go.Image(source=u)], name=str(k), traces=[0])
                            for k, u in enumerate(uris)])
    fig.update_layout(title=title, width=size, height=size + 110, plot_bgcolor="white",
                      margin=dict(l=10, r=10, t=40 if title else 10, b=90),
                      **play_controls(t, int(1000 / fps)))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x")
    return fig
