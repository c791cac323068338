"""Training curves: loss and accuracy per epoch, train against validation, side by side."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from labkit.errors import LabkitError

PANELS = (("loss", "loss"), ("accuracy", "accuracy"))  # (panel title, history column)
TRAIN_COLOR, VAL_COLOR = "#1f77b4", "#ff7f0e"


def _column(h: pd.DataFrame, name: str) -> list:
    return h[name].tolist() if name in h and h[name].notna().any() else []


def training_curves(history, batches: pd.DataFrame | None = None, title: str | None = None,
                    height: int = 340) -> go.Figure:
    """Loss (left) and accuracy (right) per epoch, train solid and validation dashed.

    history: a `FitResult.history` DataFrame (epoch, loss, accuracy, val_loss, val_accuracy, ...),
    or a dict {run name: history} to overlay runs (one colour per run). batches (optional, one
    history only): per-batch DataFrame (step as fractional epoch, loss, accuracy), drawn as a thin
    line under the epoch curves — what a live dashboard shows between epochs.
    Trace order for one history: train loss, val loss, train accuracy, val accuracy
    [, batch loss, batch accuracy] — the dashboard updates traces by this order.
    """
    runs = history if isinstance(history, dict) else {None: history}
    fig = make_subplots(rows=1, cols=2, subplot_titles=[p[0] for p in PANELS], horizontal_spacing=0.1)
    for i, (name, h) in enumerate(runs.items()):
        h = pd.DataFrame(h)
        for col, (_, key) in enumerate(PANELS, start=1):
            for split, prefix, dash in (("train", "", "solid"), ("val", "val_", "dash")):
                color = (TRAIN_COLOR if split == "train" else VAL_COLOR) if name is None \
                    else qualitative.Plotly[i % len(qualitative.Plotly)]
                label = f"{split} {key}" if name is None else f"{name} {split}"
                fig.add_trace(go.Scatter(
                    x=_column(h, "epoch"), y=_column(h, prefix + key), name=label, mode="lines+markers",
                    line=dict(color=color, dash=dash), legendgroup=label, showlegend=col == 1 or name is None,
                ), row=1, col=col)
    if batches is not None:
        if isinstance(history, dict):
            raise LabkitError("batches go with one history, not a dict of runs")
        for col, (_, key) in enumerate(PANELS, start=1):
            fig.add_trace(go.Scatter(x=_column(batches, "step"), y=_column(batches, key),
                                     name=f"batch {key}", mode="lines",
                                     line=dict(color=TRAIN_COLOR, width=1), opacity=0.35), row=1, col=col)
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_layout(title=title, height=height, margin=dict(l=50, r=10, t=60 if title else 30, b=40),
                      legend=dict(orientation="h", y=-0.2), template="plotly_white")
    return fig
