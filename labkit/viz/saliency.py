"""Where and when a model looked: attribution heatmaps over the frames, and frame importance.

Maps are scaled by the largest |value| over the whole clip (not per frame), so brightness is
comparable across time: a frame that mattered little stays faint. They travel as int8 percent
of that peak (-100..100): a quarter of the bytes of float32, and finer than the eye can tell.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from labkit.errors import LabkitError
from .clips import _check_clips, join_frames, layout_strip, play_controls, png_uri, strip_grid, text_px

# Colours no built-in task draws (order's flashes and recall's squares are red, blue, green,
# yellow), from ColorBrewer's BrBG, which stays readable with every common colour-vision
# deficiency: |attribution| is one teal ramp, light to dark, transparent where it is ~0 so the
# frame shows through; signed is teal for evidence for the class, brown against it.
ABS_SCALE = [[0.0, "rgba(199,234,229,0)"], [0.3, "rgba(128,205,193,0.6)"], [1.0, "rgba(53,151,143,1)"]]
SIGNED_SCALE = [[0.0, "rgba(140,81,10,1)"], [0.3, "rgba(191,129,45,0.7)"], [0.5, "rgba(245,245,245,0)"],
                [0.7, "rgba(128,205,193,0.7)"], [1.0, "rgba(53,151,143,1)"]]
SIGNED_NAMES = ("teal", "brown")  # the colours of evidence for and against, for legends and labels
COLORBAR_PX = 90  # room right of a strip for the colour bar and its title
BAR, BAR_ON, EVIDENCE = "#9ecae1", "#08519c", "#d62728"


def _unpack(clip, maps, frame_scores, index: int):
    """Accept an `explain.Attribution` or arrays; return clip (T,H,W,3), maps (T,H,W), scores (T,), title."""
    title = None
    if hasattr(maps, "maps"):  # an explain.Attribution
        attr = maps
        maps = np.asarray(attr.maps)
        frame_scores = np.asarray(attr.frame_scores) if frame_scores is None else frame_scores
        names = getattr(attr, "classes", None)
        target, predicted = (int(_item(v, index)) for v in (attr.target, attr.predicted))
        if names is not None:
            target, predicted = names[target], names[predicted]
        title = f"{attr.method}<br><sup>target {target} · predicted {predicted}"
        prob = getattr(attr, "probability", None)
        if prob is not None:
            title += f" (p={float(_item(prob, index)):.2f})"
        title += "</sup>"
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim == 4:
        maps = maps[index]
    if frame_scores is not None:
        frame_scores = np.asarray(frame_scores, dtype=np.float32)
        frame_scores = frame_scores[index] if frame_scores.ndim == 2 else frame_scores
    clips = _check_clips(clip)
    frames = clips[index] if len(clips) > 1 else clips[0]  # (T, H, W, 3)
    if maps.shape != frames.shape[:3]:
        raise LabkitError(f"maps {maps.shape} do not match the clip's (T, H, W) {frames.shape[:3]}")
    if frame_scores is None:  # fallback: a frame's share of the clip's absolute attribution
        frame_scores = np.abs(maps).sum((1, 2))
    return frames, maps, frame_scores, title


def _item(v, index):
    a = np.asarray(v)
    return a.reshape(-1)[index] if a.ndim else a.item()


def _scaled(maps: np.ndarray, signed: bool) -> np.ndarray:
    """(T, H, W) -> int8 percent of the clip's peak |value|: [-100, 100] signed, [0, 100] abs."""
    m = maps if signed else np.abs(maps)
    peak = float(np.abs(m).max()) or 1.0
    return np.round(100 * m / peak).astype(np.int8)


def _heat(z: np.ndarray, signed: bool, opacity: float, **kw) -> go.Heatmap:
    return go.Heatmap(z=z, colorscale=SIGNED_SCALE if signed else ABS_SCALE, zmin=-100 if signed else 0, zmax=100,
                      opacity=opacity, hovertemplate="x %{x} y %{y}<br>attribution %{z}% of peak<extra></extra>",
                      colorbar=dict(title="% of peak", thickness=12), **kw)


def saliency_overlay(clip, maps, frame_scores=None, index: int = 0, frame: int = 0, signed: bool = False,
                     opacity: float = 0.6, title: str | None = None, fps: float = 4.0,
                     animate: bool = True, controls: bool = True, size: int = 420) -> go.Figure:
    """One frame with its heatmap on top, and frame-importance bars underneath; a slider and a
    play button step through the frames (plotly animation frames named "0".."T-1").

    clip: uint8 (T, H, W, C) (or a batch, with `index`). maps: an `explain.Attribution` or an
    array (T, H, W) / (N, T, H, W) of signed attributions; frame_scores: (T,) or (N, T).
    signed=True shows evidence for the class (teal) and against it (brown); False shows |attribution|.
    Traces: 0 frame image, 1 heatmap, 2 frame bars. `fig.frames[t]` restyles all three for frame t.
    controls=False leaves out plotly's play button and slider (for a widget that drives the frames).
    """
    frames, maps, scores, auto_title = _unpack(clip, maps, frame_scores, index)
    z = _scaled(maps, signed)
    t_len = len(frames)
    if not 0 <= frame < t_len:
        raise LabkitError(f"frame {frame} is outside the clip's {t_len} frames")
    uris = [png_uri(f) for f in frames]
    steps = np.arange(t_len)

    def colors(t):
        return np.where(steps == t, BAR_ON, BAR).tolist()

    img_px, bar_px, gap_px = size - 130, 100, 40  # plot-area pixels: square frame, bars, gap
    plot_px = img_px + gap_px + bar_px
    fig = make_subplots(rows=2, cols=1, row_heights=[img_px, bar_px], vertical_spacing=gap_px / plot_px)
    fig.add_trace(go.Image(source=uris[frame], hoverinfo="skip"), row=1, col=1)
    heat = _heat(z[frame], signed, opacity)
    heat.colorbar.update(len=img_px / plot_px, y=1, yanchor="top")
    fig.add_trace(heat, row=1, col=1)
    fig.add_trace(_importance_bars(scores, colors(frame)), row=2, col=1)
    if animate:  # each animation frame restyles only what changes: picture, heatmap, bar colours
        fig.frames = [go.Frame(data=[go.Image(source=uris[t]), go.Heatmap(z=z[t]), go.Bar(marker_color=colors(t))],
                               traces=[0, 1, 2], name=str(t)) for t in range(t_len)]
    if animate and controls:
        fig.update_layout(**play_controls(t_len, int(1000 / fps), prefix="frame "))
        fig.layout.sliders[0].active = frame
    fig.update_xaxes(visible=False, row=1, col=1)
    fig.update_yaxes(visible=False, scaleanchor="x", autorange="reversed", row=1, col=1)
    fig.update_xaxes(dtick=1 if t_len <= 32 else None, row=2, col=1)
    fig.update_yaxes(title_text="frame<br>importance", row=2, col=1)
    fig.update_layout(title=dict(text=title or auto_title, font=dict(size=14)), width=size,
                      height=plot_px + 60 + (120 if animate and controls else 30), showlegend=False,
                      template="plotly_white", margin=dict(l=60, r=70, t=60, b=120 if animate and controls else 30))
    return fig


def saliency_strip(clip, attributions: dict, index: int = 0, every: int = 1, signed: bool = False,
                   opacity: float = 0.6, gap: int = 2, title: str | None = None,
                   columns: int | None = None) -> go.Figure:
    """Every frame side by side with its heatmap, one row per method: methods compared at a glance.

    attributions: {name: explain.Attribution or maps (T, H, W)/(N, T, H, W)}. The strip fits a
    notebook's output as `viz.clip_strip` does: a clip too long for one row at a readable size
    (or longer than `columns` frames) wraps onto further rows, every frame labelled. Each row is
    one go.Image (frames joined with white gaps) plus one go.Heatmap (0, i.e. transparent, in
    the gaps) — two traces per row.
    """
    rows = [(name, *_unpack(clip, attr, None, index)[:2]) for name, attr in attributions.items()]
    t, h, w = rows[0][1][::every].shape[:3]
    left = text_px(max(attributions, key=len)) + 16
    grid = strip_grid(t, w, gap, left + COLORBAR_PX, columns)
    fig, placed = go.Figure(), []
    for name, frames, maps in rows:
        frames, z = frames[::every], _scaled(maps, signed)[::every]
        for span in grid.spans():
            y0 = len(placed) * grid.row_pitch(h)
            fig.add_trace(go.Image(source=png_uri(join_frames(frames, grid, span, 255)), x0=0, y0=y0,
                                   hoverinfo="skip", name=name))
            fig.add_trace(_heat(join_frames(z, grid, span, 0), signed, opacity, y0=y0, dy=1, x0=0, dx=1, name=name,
                                showscale=not placed))
            placed.append((name if span.start == 0 else "", span))
    fig.update_layout(template="plotly_white")
    margin = dict(l=left, r=COLORBAR_PX, t=40 if title else 10, b=10 if grid.wrapped else 30)
    return layout_strip(fig, grid, h, placed, lambda k: f"t={k * every}", margin, title)


def _importance_bars(scores: np.ndarray, colors) -> go.Bar:
    """Frame importance (T,) as one bar per frame; `colors`: one colour, or one per bar."""
    return go.Bar(x=np.arange(len(scores)), y=scores, marker_color=colors, name="frame importance",
                  hovertemplate="frame %{x}<br>importance %{y:.3g}<extra></extra>")


def frame_importance(scores, evidence=None, title: str | None = None) -> go.Figure:
    """When the model found its evidence: frame importance (T,) as bars, e.g. an
    `Attribution`'s `frame_scores[i]`.

    evidence (T,) bool: the frames known to carry the class (a synthetic task's
    `evidence_frames[i]`), drawn red against the others' blue.
    """
    scores = np.asarray(scores, dtype=float).reshape(-1)
    colors = BAR_ON
    if evidence is not None:
        evidence = np.asarray(evidence, dtype=bool).reshape(-1)
        if len(evidence) != len(scores):
            raise LabkitError(f"evidence marks {len(evidence)} frames but there are {len(scores)} scores")
        colors = np.where(evidence, EVIDENCE, BAR_ON).tolist()
    fig = go.Figure(_importance_bars(scores, colors))
    fig.update_xaxes(title_text="frame", dtick=1 if len(scores) <= 32 else None)
    fig.update_yaxes(title_text="importance")
    fig.update_layout(title=title or "when: frame importance" + ("" if evidence is None else " (red: evidence frames)"),
                      template="plotly_white", height=300, margin=dict(l=60, r=10, t=50, b=40))
    return fig
