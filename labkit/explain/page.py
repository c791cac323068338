"""One standalone HTML page for one explained clip: frames with heatmaps, frame importance, the
prediction. Plotly's JavaScript is inlined, so the page opens anywhere with no network and no server.

Kept to plain plotly here (not labkit.viz) so `labkit explain` depends only on this layer.
"""
from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .attribution import Attribution


def frames_figure(clip: np.ndarray, abs_map: np.ndarray) -> go.Figure:
    """Each frame (top row) and the same frame under its |attribution| heatmap (bottom row).

    clip uint8 (T, H, W, C); abs_map (T, H, W); one colour scale shared by every frame, so
    frames can be compared.
    """
    T = clip.shape[0]
    rgb = clip if clip.shape[-1] == 3 else np.repeat(clip[..., :1], 3, axis=-1)
    fig = make_subplots(rows=2, cols=T, horizontal_spacing=0.004, vertical_spacing=0.02,
                        column_titles=[str(t) for t in range(T)])
    zmax = float(abs_map.max()) or 1.0
    for t in range(T):
        fig.add_trace(go.Image(z=rgb[t], hoverinfo="skip"), row=1, col=t + 1)
        fig.add_trace(go.Image(z=rgb[t], hoverinfo="skip"), row=2, col=t + 1)
        fig.add_trace(go.Heatmap(z=abs_map[t], zmin=0, zmax=zmax, colorscale="Inferno", opacity=0.6,
                                 showscale=t == T - 1, colorbar=dict(title="|attr|", len=0.5, y=0.25),
                                 hovertemplate=f"frame {t}<br>x %{{x}}, y %{{y}}<br>%{{z:.3g}}<extra></extra>"),
                      row=2, col=t + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(title="Frames and where the model looked", height=260, margin=dict(l=10, r=10, t=60, b=10))
    return fig


def frame_scores_figure(scores: np.ndarray, evidence: np.ndarray | None = None) -> go.Figure:
    """Frame importance as bars (T,); frames marked as evidence by the task drawn darker."""
    colors = None if evidence is None else ["#d62728" if e else "#1f77b4" for e in evidence]
    fig = go.Figure(go.Bar(x=np.arange(len(scores)), y=scores, marker_color=colors,
                           hovertemplate="frame %{x}: %{y:.3g}<extra></extra>"))
    title = "When: frame importance" + ("" if evidence is None else " (red: frames carrying the class)")
    fig.update_layout(title=title, xaxis_title="frame", yaxis_title="score", height=300,
                      margin=dict(l=50, r=10, t=50, b=40))
    return fig


def prediction_figure(probabilities: np.ndarray, classes: list[str], target: int, label: int | None) -> go.Figure:
    """Class probabilities (K,), the explained target outlined, the true label named in the title."""
    fig = go.Figure(go.Bar(x=list(classes), y=probabilities,
                           marker_line_width=[3 if k == target else 0 for k in range(len(classes))],
                           marker_line_color="black", hovertemplate="%{x}: %{y:.3f}<extra></extra>"))
    truth = "" if label is None else f" (true class: {classes[label]})"
    fig.update_layout(title=f"Prediction{truth}; outlined: explained class", yaxis_range=[0, 1],
                      yaxis_title="probability", height=300, margin=dict(l=50, r=10, t=50, b=40))
    return fig


def explanation_page(clip: np.ndarray, attribution: Attribution, probabilities: np.ndarray, classes: list[str],
                     label: int | None = None, evidence_frames: np.ndarray | None = None, title: str = "") -> str:
    """The whole page as one HTML string for one clip (T, H, W, C) and its one-clip Attribution."""
    target, predicted = int(attribution.target[0]), int(attribution.predicted[0])
    figs = [frames_figure(clip, attribution.abs_maps[0]),
            frame_scores_figure(attribution.frame_scores[0], evidence_frames),
            prediction_figure(probabilities, classes, target, label)]
    parts = [fig.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False)
             for i, fig in enumerate(figs)]
    params = ", ".join(f"{k}={v}" for k, v in attribution.params.items() if v is not None)
    summary = (f"method <b>{html.escape(attribution.method)}</b> ({html.escape(params)}); "
               f"explained class <b>{html.escape(classes[target])}</b>; predicted "
               f"<b>{html.escape(classes[predicted])}</b> with probability {attribution.probability[0]:.3f}")
    if label is not None:
        summary += f"; true class <b>{html.escape(classes[label])}</b>"
    if note := attribution.completeness_note():  # integrated gradients, DeepLift: do they add up?
        summary += f"<br><small>{html.escape(note)}</small>"
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title or 'labkit explanation')}</title></head>"
            "<body style='font-family: sans-serif; margin: 1em 2em'>"
            f"<h2>{html.escape(title or 'labkit explanation')}</h2><p>{summary}</p>"
            + "\n".join(parts) + "</body></html>")
