"""What a network computes, as figures: conv feature maps per frame, keypoint tracks over time,
and temporal states (hidden states, gates, attention) as heatmaps over time.

Each builder takes the arrays of an `explain.Internals` (from `explain.look_inside`) and a
frame index; its `fig.frames` (named "0".."T-1") restyle only what depends on the frame, so a
widget (or plotly's own slider, with controls=True) can move through the clip cheaply.
Feature maps are coloured per channel over the whole clip (so a channel that fires harder in
a later frame looks brighter there), with viridis, which reads in grey and with every common
colour-vision deficiency.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from PIL import Image
from plotly.colors import qualitative, sample_colorscale
from plotly.subplots import make_subplots

from labkit.errors import LabkitError
from .clips import _check_clips, play_controls, png_uri

_VIRIDIS = np.array([[int(v) for v in c[4:-1].split(",")] for c in sample_colorscale("Viridis", np.linspace(0, 1, 256))],
                    np.uint8)  # (256, 3) lookup table
STATE_SCALE = "BrBG"  # signed states: brown below 0, teal above (as the signed saliency maps)
TRACK_COLORS = qualitative.Safe  # colour-blind-safe, one per keypoint channel
CURSOR = dict(color="#222", width=2, dash="dot")


def colorize(values: np.ndarray, low, high) -> np.ndarray:
    """Values (...) -> uint8 RGB (..., 3) on viridis, `low`..`high` (broadcastable) spanning the map."""
    span = np.maximum(np.asarray(high, np.float32) - low, 1e-12)
    index = np.clip((np.asarray(values, np.float32) - low) / span * 255, 0, 255).astype(np.uint8)
    return _VIRIDIS[index]


def _tile(img: np.ndarray, side: int) -> np.ndarray:
    """uint8 (h, w, 3) -> (side, side, 3), nearest neighbour: every map cell stays a sharp square."""
    return np.asarray(Image.fromarray(img).resize((side, side), Image.NEAREST))


def _grid(tiles: list[np.ndarray], columns: int, gap: int) -> np.ndarray:
    """Equal square tiles (s, s, 3) -> one white-gapped picture, `columns` to a row."""
    s, rows = tiles[0].shape[0], -(-len(tiles) // columns)
    out = np.full((rows * (s + gap) - gap, columns * (s + gap) - gap, 3), 255, np.uint8)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, columns)
        out[r * (s + gap):r * (s + gap) + s, c * (s + gap):c * (s + gap) + s] = tile
    return out


def _channels(channels, count: int, limit: int) -> list[int]:
    """The channel indices to draw (the first `limit` when None); out-of-range ones are refused."""
    picked = list(range(min(count, limit))) if channels is None else [int(c) for c in channels]
    bad = [c for c in picked if not 0 <= c < count]
    if bad or not picked:
        raise LabkitError(f"channels {bad or picked} are not among this block's {count} channels (0..{count - 1})")
    return picked


def feature_maps(maps, frame: int = 0, channels=None, clip=None, columns: int = 4, tile: int = 88,
                 title: str | None = None, controls: bool = False, fps: float = 4.0) -> go.Figure:
    """One conv block's feature maps at one frame, a tile per channel (the frame itself first,
    when `clip` is given): what each channel responds to, and where.

    maps: (T, C, h, w), e.g. `Internals.block_maps[i]`; channels: the indices to draw (default:
    the first 15); clip: uint8 (T, H, W, C). Each channel is coloured over its range in the whole
    clip. Trace 0 is one go.Image of the grid; `fig.frames[t]` swaps in frame t's grid.
    """
    maps = np.asarray(maps, np.float32)
    if maps.ndim != 4:
        raise LabkitError(f"maps must be (T, C, h, w); got shape {maps.shape}")
    T, C = maps.shape[:2]
    if not 0 <= frame < T:
        raise LabkitError(f"frame {frame} is outside the clip's {T} frames")
    picked = _channels(channels, C, 15)
    low = maps[:, picked].min(axis=(0, 2, 3))[:, None, None]  # (k, 1, 1) per channel over the clip
    high = maps[:, picked].max(axis=(0, 2, 3))[:, None, None]
    frames = _check_clips(clip)[0] if clip is not None else None
    labels = (["frame"] if frames is not None else []) + [f"ch {c}" for c in picked]
    columns = min(columns, len(labels))
    gap = 14  # room for each tile's label

    def picture(t: int) -> str:
        tiles = [_tile(frames[t], tile)] if frames is not None else []
        tiles += [_tile(rgb, tile) for rgb in colorize(maps[t, picked], low, high)]
        return png_uri(_grid(tiles, columns, gap))

    fig = go.Figure(go.Image(source=picture(frame), hoverinfo="skip"))
    fig.frames = [go.Frame(data=[go.Image(source=picture(t))], traces=[0], name=str(t)) for t in range(T)]
    rows = -(-len(labels) // columns)
    fig.update_layout(annotations=[dict(x=(k % columns) * (tile + gap) + tile / 2, y=(k // columns) * (tile + gap) + tile,
                                        text=label, showarrow=False, yanchor="top", font=dict(size=10))
                                   for k, label in enumerate(labels)])
    return _frame_figure(fig, T, frame, columns * (tile + gap) - gap, rows * (tile + gap), title, controls, fps)


def _frame_figure(fig, frames: int, frame: int, width: float, height: float, title, controls: bool, fps: float):
    """Size a picture figure (`width` x `height` image pixels shown 1:1) with hidden axes and,
    with `controls`, plotly's own play button and frame slider."""
    fig.update_xaxes(visible=False, range=[-0.5, width - 0.5])
    fig.update_yaxes(visible=False, range=[height - 0.5, -0.5], scaleanchor="x")
    top, bottom = 40 if title else 5, 90 if controls else 5
    fig.update_layout(title=title, width=round(width) + 10, height=round(height) + top + bottom,
                      margin=dict(l=5, r=5, t=top, b=bottom), plot_bgcolor="white")
    if controls:
        fig.update_layout(**play_controls(frames, int(1000 / fps), prefix="frame "))
        fig.layout.sliders[0].active = frame
    return fig


def keypoint_tracks(keypoints, clip, frame: int = 0, channels=None, size: int = 200,
                    title: str | None = None) -> go.Figure:
    """Where the channels of the last conv block fire, over time: what the `keypoints` readout
    hands the temporal model.

    keypoints: an `explain.Keypoints` (x, y, strength: (T, C)); clip: uint8 (T, H, W, C). Left:
    frame `frame` with every channel's track (its soft-argmax position in each frame) and a dot
    where it is now, sized by its strength. Right: x and y over time. channels: indices (default:
    the 6 that fire hardest on average). Traces: 0 the frame, then per channel its track, x(t),
    y(t), then one trace of the current dots and two time cursors; `fig.frames[t]` restyles the
    frame, the dots and the cursors.
    """
    frames = _check_clips(clip)[0]  # (T, H, W, 3)
    T, H, W = frames.shape[:3]
    if keypoints.x.shape[0] != T:
        raise LabkitError(f"the keypoints cover {keypoints.x.shape[0]} frames but the clip has {T}")
    strongest = np.argsort(-keypoints.strength.mean(0))[:6]
    picked = _channels(sorted(strongest) if channels is None else channels, keypoints.x.shape[1], 6)
    px, py = keypoints.in_pixels((H, W))  # (T, C) in frame pixels
    fig = make_subplots(rows=2, cols=2, specs=[[{"rowspan": 2}, {}], [None, {}]], column_widths=[0.5, 0.5],
                        horizontal_spacing=0.12, vertical_spacing=0.12)
    fig.add_trace(go.Image(source=png_uri(frames[frame]), hoverinfo="skip"), row=1, col=1)
    t = np.arange(T)
    for k, c in enumerate(picked):
        style = dict(legendgroup=str(c), line=dict(color=TRACK_COLORS[k % len(TRACK_COLORS)], width=2))
        fig.add_trace(go.Scatter(x=px[:, c], y=py[:, c], mode="lines", name=f"ch {c}", **style,
                                 hovertemplate=f"ch {c}<br>x %{{x:.1f}} y %{{y:.1f}}<extra></extra>"), row=1, col=1)
        fig.add_trace(go.Scatter(x=t, y=keypoints.x[:, c], mode="lines", showlegend=False, **style), row=1, col=2)
        fig.add_trace(go.Scatter(x=t, y=keypoints.y[:, c], mode="lines", showlegend=False, **style), row=2, col=2)
    n = len(fig.data)
    fig.add_traces(_track_cursors(keypoints, px, py, picked, frame), rows=[1, 1, 2], cols=[1, 2, 2])
    fig.frames = [go.Frame(data=[go.Image(source=png_uri(frames[s])), *_track_cursors(keypoints, px, py, picked, s)],
                           traces=[0, n, n + 1, n + 2], name=str(s)) for s in range(T)]
    fig.update_xaxes(visible=False, range=[-0.5, W - 0.5], row=1, col=1)
    fig.update_yaxes(visible=False, range=[H - 0.5, -0.5], scaleanchor="x", row=1, col=1)
    fig.update_yaxes(title_text="x (cells)", row=1, col=2)
    fig.update_yaxes(title_text="y (cells)", autorange="reversed", row=2, col=2)
    fig.update_xaxes(title_text="frame", dtick=1 if T <= 16 else None, row=2, col=2)
    fig.update_xaxes(dtick=1 if T <= 16 else None, showticklabels=False, row=1, col=2)
    fig.update_layout(title=title or "keypoints: where each channel fires", template="plotly_white",
                      width=2 * size + 140, height=size + 150, margin=dict(l=10, r=10, t=50, b=100),
                      legend=dict(orientation="h", yanchor="top", y=-0.3, x=0, font=dict(size=10)))
    return fig


def _track_cursors(keypoints, px, py, picked: list[int], t: int) -> list[go.Scatter]:
    """The current dots (sized by strength, in the frame) and the two time cursors at frame t."""
    strength = keypoints.strength[t, picked]
    size = 6 + 12 * (strength - keypoints.strength[:, picked].min()) / max(np.ptp(keypoints.strength[:, picked]), 1e-9)
    colors = [TRACK_COLORS[k % len(TRACK_COLORS)] for k in range(len(picked))]
    lows = [keypoints.x[:, picked].min(), keypoints.y[:, picked].min()]
    highs = [keypoints.x[:, picked].max(), keypoints.y[:, picked].max()]
    return [go.Scatter(x=px[t, picked], y=py[t, picked], mode="markers", showlegend=False, hoverinfo="skip",
                       marker=dict(size=size, color=colors, line=dict(color="white", width=1.5))),
            *[go.Scatter(x=[t, t], y=[lo, hi], mode="lines", line=CURSOR, showlegend=False, hoverinfo="skip")
              for lo, hi in zip(lows, highs)]]


def state_heatmap(series, frame: int | None = None, title: str | None = None, width: int = 440) -> go.Figure:
    """One temporal series over time as a heatmap: units (rows) x frames (columns).

    series: an `explain.Series` (values (T, K), kind) or an array (T, K) (read as signed states).
    Signed kinds ("state", "features") get a diverging scale centred on 0; gates (0..1) and
    attention weights a sequential one. Attention weights are frames x frames: row t is what
    frame t reads. Trace 0 is the heatmap, trace 1 the cursor on `frame` (a line; None: hidden);
    `fig.frames[t]` moves the cursor.
    """
    values = np.asarray(getattr(series, "values", series), np.float32)
    kind, name = getattr(series, "kind", "state"), getattr(series, "name", "")
    if values.ndim != 2:
        raise LabkitError(f"a series is (T, K); got shape {values.shape}")
    T, K = values.shape
    if kind in ("gate", "weights"):
        scale = dict(colorscale="Viridis", zmin=0, zmax=1 if kind == "gate" else float(values.max()))
    else:
        peak = float(np.abs(values).max()) or 1.0
        scale = dict(colorscale=STATE_SCALE, zmin=-peak, zmax=peak)
    weights = kind == "weights"
    unit = "frame" if weights else "unit"
    fig = go.Figure(go.Heatmap(z=values if weights else values.T, **scale, colorbar=dict(thickness=10),
                               hovertemplate=f"frame %{{x}}<br>{'reading frame' if weights else unit} %{{y}}"
                                             "<br>%{z:.3f}<extra></extra>"))
    fig.add_trace(_state_cursor(frame, T, K, weights))
    fig.frames = [go.Frame(data=[_state_cursor(t, T, K, weights)], traces=[1], name=str(t)) for t in range(T)]
    fig.update_xaxes(title_text="frame read" if weights else "frame", dtick=1 if T <= 16 else None,
                     range=[-0.5, T - 0.5])
    fig.update_yaxes(title_text="frame reading" if weights else unit, autorange="reversed")
    fig.update_layout(title=dict(text=title or name, font=dict(size=13)), template="plotly_white", width=width,
                      height=int(np.clip(8 * (T if weights else K), 160, 420)) + 90, showlegend=False,
                      margin=dict(l=60, r=10, t=40, b=50))
    return fig


def _state_cursor(frame, T: int, K: int, rows: bool) -> go.Scatter:
    """The current frame marked on a state heatmap: a column (a row for attention weights)."""
    if frame is None:
        return go.Scatter(x=[], y=[], mode="lines", line=CURSOR, hoverinfo="skip")
    span = [-0.5, (T if rows else K) - 0.5]
    x, y = (span, [frame, frame]) if rows else ([frame, frame], span)
    return go.Scatter(x=x, y=y, mode="lines", line=CURSOR, hoverinfo="skip")
