"""When did the model decide: class probabilities after each prefix of frames, under the frames'
importance, on one time axis."""
from __future__ import annotations

import textwrap

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from labkit.errors import LabkitError
from .saliency import BAR, BAR_ON

CURSOR = "#555"
TITLE_PX, TITLE_CHAR_PX = 14, 7.5  # the title's font size, and a generous average glyph width at it


def _shown_classes(curves: dict, top: int) -> list[int]:
    """The classes worth a line: the `top` whose probability peaks highest in any curve."""
    peak = np.nanmax(np.stack([np.nanmax(p, 0) for p in curves.values()]), 0)  # (K,)
    return [int(k) for k in np.argsort(-peak, kind="stable")[:top]]


def decision_curve(prefix_probs, classes: list[str], frame_scores=None, compare: dict | None = None,
                   decided: int | None = None, frame: int | None = None, top: int = 3,
                   title: str | None = None, width: int = 420) -> go.Figure:
    """Probability of each class after frames 0..t (`model.predict_prefixes(clip)`, (T, K)), one
    line per class (the `top` classes that ever lead), with the frames' importance (T,) as bars
    above on the same frame axis, so *when the evidence came* and *when the model made up its
    mind* read together. compare: {"edited": (T', K)} drawn dashed in the same class colours;
    decided: the frame from which the prediction stays (`explain.decision_frame`), marked;
    frame: a cursor (trace index -1 is the cursor, so a widget moves it by restyling x).
    """
    p = np.asarray(prefix_probs, dtype=float)
    if p.ndim != 2 or p.shape[1] != len(classes):
        raise LabkitError(f"prefix_probs must be (T, {len(classes)}) for {len(classes)} classes; got {p.shape}")
    curves = {"clip": p, **{k: np.asarray(v, float) for k, v in (compare or {}).items()}}
    shown, T = _shown_classes(curves, top), max(len(c) for c in curves.values())
    bars = frame_scores is not None
    fig = make_subplots(rows=2 if bars else 1, cols=1, shared_xaxes=True, row_heights=[0.3, 0.7] if bars else None,
                        vertical_spacing=0.08)
    row = 2 if bars else 1
    if bars:
        s = np.asarray(frame_scores, float).reshape(-1)
        fig.add_trace(go.Bar(x=np.arange(len(s)), y=s, marker_color=BAR_ON, name="frame importance", showlegend=False,
                             hovertemplate="frame %{x}<br>importance %{y:.3g}<extra></extra>"), row=1, col=1)
        fig.update_yaxes(title_text="importance", row=1, col=1)
    for j, (name, c) in enumerate(curves.items()):
        for i, k in enumerate(shown):
            fig.add_trace(go.Scatter(
                x=np.arange(len(c)), y=c[:, k], mode="lines+markers", name=classes[k] + ("" if j == 0 else f" ({name})"),
                line=dict(color=qualitative.Safe[i % len(qualitative.Safe)], dash="solid" if j == 0 else "dash"),
                marker=dict(size=4), hovertemplate=f"{classes[k]}<br>after frame %{{x}}: %{{y:.2f}}<extra>{name}</extra>"),
                row=row, col=1)
    if decided is not None:
        fig.add_vline(x=decided, line=dict(color=BAR, width=2, dash="dot"), row=row, col=1,
                      annotation_text=f"decided at frame {decided}", annotation_position="bottom right")
    fig.add_trace(go.Scatter(x=[frame or 0] * 2, y=[0, 1], mode="lines", line=dict(color=CURSOR, width=1),
                             hoverinfo="skip", showlegend=False, visible=frame is not None), row=row, col=1)
    fig.update_yaxes(title_text="P(class) after<br>frames 0..t", range=[0, 1.02], row=row, col=1)
    fig.update_xaxes(title_text="frame", dtick=1 if T <= 32 else None, range=[-0.5, T - 0.5], row=row, col=1)
    # a title longer than the figure is wide wraps (plotly would cut it at the figure's edge)
    lines = textwrap.wrap(title or "when did the model decide?", max(10, int((width - 30) / TITLE_CHAR_PX)))
    fig.update_layout(title=dict(text="<br>".join(lines), font=dict(size=TITLE_PX)), width=width,
                      height=420 + 18 * (len(lines) - 1), template="plotly_white",
                      margin=dict(l=70, r=10, t=50 + 18 * (len(lines) - 1), b=40),
                      legend=dict(orientation="h", y=-0.18, x=0), bargap=0.2)
    return fig
