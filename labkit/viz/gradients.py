"""Gradient flow over time: how much of the loss gradient reaches each frame.

A plain RNN's curve falls by orders of magnitude towards the first frames (vanishing gradient);
LSTM and GRU keep it flat — the picture behind "use a gated cell for long sequences".
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from labkit.errors import LabkitError


def gradient_flow(flows, title: str | None = None, log: bool = True) -> go.Figure:
    """Per-frame gradient norm, log-y, one line per model.

    flows: an `explain.gradient_flow(...)` DataFrame (columns [clip,] frame, grad_norm) or a dict
    {model name: such a DataFrame} to overlay e.g. RNN vs LSTM vs GRU. Several clips are
    averaged per frame. Zeros are dropped on a log axis (plotly cannot draw them).
    """
    flows = flows if isinstance(flows, dict) else {"gradient": flows}
    fig = go.Figure()
    for i, (name, df) in enumerate(flows.items()):
        df = pd.DataFrame(df)
        if not {"frame", "grad_norm"} <= set(df.columns):
            raise LabkitError(f"gradient flow {name!r} needs columns frame, grad_norm; got {list(df.columns)}")
        df = df.groupby("frame", as_index=False)["grad_norm"].mean()  # mean over clips
        y = df["grad_norm"].to_numpy(dtype=float)
        if log:
            y = np.where(y > 0, y, np.nan)
        fig.add_trace(go.Scatter(x=df["frame"], y=y, name=str(name), mode="lines+markers",
                                 line=dict(color=qualitative.Plotly[i % len(qualitative.Plotly)]),
                                 hovertemplate=f"{name}<br>frame %{{x}}<br>|grad| %{{y:.3g}}<extra></extra>"))
    fig.update_xaxes(title_text="frame (0 = first seen)", dtick=1 if len(df) <= 32 else None)
    fig.update_yaxes(title_text="gradient norm" + (" (log)" if log else ""), type="log" if log else "linear",
                     exponentformat="power")
    fig.update_layout(title=title or "gradient flow over time", template="plotly_white", height=360,
                      margin=dict(l=60, r=10, t=50, b=40))
    return fig
