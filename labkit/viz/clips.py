"""Clips as pictures: a strip of frames side by side, and an animated player.

Strips size themselves to a notebook's output area (`strip_grid`, `layout_strip`, which
`saliency_strip` shares): as wide as their frames need, never wider than OUTPUT_WIDTH; a clip
too long for one row at a readable size wraps onto balanced rows, each frame labelled.

Frames travel as small PNG data URIs inside `go.Image(source=...)`, so a 16-frame 64x64 clip
costs a few tens of kB in a notebook instead of a nested list of every pixel value.
"""
from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from labkit.errors import LabkitError

OUTPUT_WIDTH = 900  # px: the widest figure; a JupyterLab output area is 968 px wide at its default size
FRAME_PX = (40, 96)  # smallest and largest on-screen width of one frame in a strip, in px
TICK_FONT, TITLE_FONT = 12, 17  # plotly's default font sizes (px) of tick labels and titles
LABEL_BAND_PX = 16  # room under each row of a wrapped strip for its frames' "t=k" labels


def text_px(text: str | None, size: float = TICK_FONT) -> float:
    """A generous estimate of the on-screen width (px) of text in plotly's font: 0.6 em a
    character, markup aside, the longest line of a `<br>`-broken text."""
    if not text:
        return 0.0
    lines = re.sub(r"<(?!br)[^>]*>", "", text).split("<br>")
    return 0.6 * size * max(len(line) for line in lines)


@dataclass(frozen=True)
class StripGrid:
    """How a strip of `frames` frames, each `width` pixels wide plus `gap`, lays out on screen:
    `columns` frames per row, `scale` screen px per image pixel, `wrapped` when a clip takes
    more than one row (its frames then carry their own "t=k" labels)."""

    frames: int
    width: int
    gap: int
    columns: int
    scale: float

    @property
    def wrapped(self) -> bool:
        return self.columns < self.frames

    @property
    def pitch(self) -> int:
        return self.width + self.gap

    def row_pitch(self, height: int) -> float:
        """Image pixels from one row's top to the next one's: the frame, the gap and, wrapped,
        the band for the frame labels."""
        return height + self.gap + (LABEL_BAND_PX / self.scale if self.wrapped else 0.0)

    def spans(self) -> list[range]:
        """The frame indices of each row of one clip."""
        return [range(s, min(s + self.columns, self.frames)) for s in range(0, self.frames, self.columns)]


def strip_grid(frames: int, width: int, gap: int, margins_px: float, columns: int | None = None) -> StripGrid:
    """Frames per row and scale so a strip fits `OUTPUT_WIDTH` with `margins_px` of labels beside
    it: one row while every frame gets at least FRAME_PX[0] px (or its own width, if smaller),
    else balanced rows (16 frames that do not fit wrap as 8 + 8, not 12 + 4); frames are never
    drawn wider than FRAME_PX[1] px.
    `columns` fixes the frames per row instead."""
    room, pitch = OUTPUT_WIDTH - margins_px, width + gap
    smallest = min(FRAME_PX[0], width)  # a small frame may keep its own size
    if columns is None:
        columns = frames
        if room / (frames * pitch) * width < smallest:
            per_row = max(1, int(room // (smallest / width * pitch)))
            columns = -(-frames // -(-frames // per_row))
    columns = max(1, min(columns, frames))
    scale = min(FRAME_PX[1] / width, room / (columns * pitch - gap))
    return StripGrid(frames, width, gap, columns, scale)


def join_frames(frames: np.ndarray, grid: StripGrid, span: range, fill) -> np.ndarray:
    """The frames of one row side by side: (T, h, w, ...) -> (h, columns*pitch - gap, ...), `fill`
    in the gaps and after the last frame of a short row."""
    row = np.full((frames.shape[1], grid.columns * grid.pitch - grid.gap, *frames.shape[3:]), fill, frames.dtype)
    for j, k in enumerate(span):
        row[:, j * grid.pitch:j * grid.pitch + grid.width] = frames[k]
    return row


def layout_strip(fig: go.Figure, grid: StripGrid, height: int, rows: list[tuple[str, range]], frame_label,
                 margin: dict, title: str | None = None) -> go.Figure:
    """Axes, labels and size of a strip whose rows (`height` pixels high; each a label and the
    frames it shows) were added top to bottom at y0 = r * `grid.row_pitch(height)`.

    One row per clip: the frame labels (`frame_label(k)`, e.g. "t=3") are the x ticks. Wrapped:
    every frame has its label under it, so the index of each frame stays in sight. The figure
    is as wide as its frames and margins, or as its title needs, and at most OUTPUT_WIDTH.
    """
    pitch = grid.row_pitch(height)
    data_w, data_h = grid.columns * grid.pitch - grid.gap, len(rows) * pitch - grid.gap
    fig.update_xaxes(range=[-0.5, data_w - 0.5], showgrid=False, zeroline=False, showticklabels=not grid.wrapped,
                     tickvals=[j * grid.pitch + grid.width / 2 for j in range(grid.columns)],
                     ticktext=[frame_label(j) for j in range(grid.columns)])
    fig.update_yaxes(range=[data_h - 0.5, -0.5], showgrid=False, zeroline=False, scaleanchor="x",
                     tickvals=[r * pitch + height / 2 for r in range(len(rows))], ticktext=[lab for lab, _ in rows],
                     showticklabels=any(lab for lab, _ in rows))
    if grid.wrapped:
        fig.update_layout(annotations=[
            dict(x=j * grid.pitch + grid.width / 2, y=r * pitch + height + grid.gap, xref="x", yref="y",
                 text=frame_label(k), showarrow=False, yanchor="top", font=dict(size=10))
            for r, (_, span) in enumerate(rows) for j, k in enumerate(span)])
    width = max(margin["l"] + margin["r"] + data_w * grid.scale, (text_px(title, TITLE_FONT) + 10) / 0.95)
    fig.update_layout(title=title, margin=margin, plot_bgcolor="white", width=round(min(width, OUTPUT_WIDTH)),
                      height=round(margin["t"] + margin["b"] + data_h * grid.scale))
    return fig


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


def clip_strip(clips, titles: list[str] | None = None, every: int = 1, gap: int = 2, title: str | None = None,
               frame_labels: list[str] | None = None, columns: int | None = None) -> go.Figure:
    """Frames side by side, one row per clip: the whole sequence at a glance.

    clips: one clip (T, H, W, C), several (N, T, H, W, C), or a list of clips of different
    lengths; uint8. `every` keeps every k-th frame; `titles` labels the rows (e.g. class
    names); `frame_labels` names the frames instead of "t=k" (e.g. one frame of each class).
    The strip fits a notebook's output (`strip_grid`): a clip too long for one row at a
    readable size wraps onto further rows (or `columns` frames per row), every frame labelled.
    One go.Image trace per row.
    """
    if isinstance(clips, (list, tuple)):
        rows = [_check_clips(c)[0, ::every] for c in clips]  # each (T_i, H, W, 3)
    else:
        rows = list(_check_clips(clips)[:, ::every])
    n, t = len(rows), max(len(c) for c in rows)
    h, w = rows[0].shape[1:3]
    if titles is not None and len(titles) != n:
        raise LabkitError(f"titles has {len(titles)} entries for {n} clips")
    if frame_labels is not None and len(frame_labels) != t:
        raise LabkitError(f"frame_labels has {len(frame_labels)} entries for {t} frames")
    left = text_px(max(titles, key=len)) + 16 if titles else 10
    grid = strip_grid(t, w, gap, left + 10, columns)
    fig, placed = go.Figure(), []
    for r, frames in enumerate(rows):
        for span in grid.spans():
            span = range(span.start, min(span.stop, len(frames)))
            if not span:  # a shorter clip ends before this row
                continue
            fig.add_trace(go.Image(source=png_uri(join_frames(frames, grid, span, 255)), x0=0, dx=1, dy=1,
                                   y0=len(placed) * grid.row_pitch(h), hoverinfo="skip",
                                   name=titles[r] if titles else f"clip {r}"))
            placed.append((titles[r] if titles and span.start == 0 else "", span))
    label = (lambda k: str(frame_labels[k])) if frame_labels is not None else (lambda k: f"t={k * every}")
    margin = dict(l=left, r=10, t=40 if title else 10, b=10 if grid.wrapped else 30)
    return layout_strip(fig, grid, h, placed, label, margin, title)


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
