"""How a trained model does per class: confusion matrix, per-class precision/recall, and the
class probabilities of one prediction."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from labkit.errors import LabkitError


def confusion_matrix(confusion: pd.DataFrame, normalize: str | None = None,
                     title: str | None = None) -> go.Figure:
    """Annotated heatmap of an `EvalResult.confusion` (rows: true class, columns: predicted).

    normalize: None (counts), "true" (each row sums to 1: recall on the diagonal) or
    "pred" (each column sums to 1: precision on the diagonal). Counts stay in the hover text.
    """
    if normalize not in (None, "true", "pred"):
        raise LabkitError(f"normalize must be None, 'true' or 'pred'; got {normalize!r}")
    counts = np.asarray(confusion, dtype=float)  # (K, K)
    z = counts
    if normalize == "true":
        z = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    elif normalize == "pred":
        z = counts / np.maximum(counts.sum(0, keepdims=True), 1)
    true = [str(c) for c in confusion.index]
    pred = [str(c) for c in confusion.columns]
    fig = go.Figure(go.Heatmap(
        z=z, x=pred, y=true, colorscale="Blues", zmin=0, zmax=1 if normalize else None,
        text=np.round(z, 2) if normalize else counts.astype(int),
        texttemplate="%{text}", customdata=counts.astype(int),
        hovertemplate="true %{y}<br>predicted %{x}<br>count %{customdata}<br>value %{z:.3g}<extra></extra>",
        colorbar=dict(title="share" if normalize else "clips"),
    ))
    side = 260 + 28 * len(pred)
    fig.update_xaxes(title_text="predicted", side="bottom", type="category")
    fig.update_yaxes(title_text="true", autorange="reversed", type="category")
    fig.update_layout(title=title or ("confusion matrix" + (f" (normalised by {normalize})" if normalize else "")),
                      width=side + 80, height=side, template="plotly_white",
                      margin=dict(l=80, r=10, t=50, b=60))
    return fig


def per_class_bars(per_class: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Grouped bars of precision and recall per class, from `EvalResult.per_class`
    (index or a "class" column naming the classes; columns precision, recall[, support])."""
    df = per_class if "class" in per_class.columns else per_class.rename_axis("class").reset_index()
    classes = df["class"].astype(str).tolist()
    support = df["support"].tolist() if "support" in df else [None] * len(df)
    fig = go.Figure()
    for metric, color in (("precision", "#1f77b4"), ("recall", "#ff7f0e")):
        if metric not in df:
            raise LabkitError(f"per_class needs a {metric!r} column; got {list(df.columns)}")
        fig.add_trace(go.Bar(x=classes, y=df[metric], name=metric, marker_color=color,
                             customdata=support,
                             hovertemplate="%{x}<br>" + metric + " %{y:.3f}<br>support %{customdata}<extra></extra>"))
    fig.update_layout(barmode="group", title=title or "per-class precision and recall",
                      yaxis=dict(range=[0, 1.05], title="score"), template="plotly_white",
                      height=340, margin=dict(l=50, r=10, t=50, b=40))
    fig.update_xaxes(type="category")
    return fig


def class_probabilities(probabilities, classes: list[str], target: int | None = None, label: int | None = None,
                        title: str | None = None) -> go.Figure:
    """One clip's class probabilities (K,) as bars, e.g. `model.predict_proba(clip)[0]`.

    target: the index of the class an explanation is for, outlined; label: the index of the
    true class, named in the title.
    """
    p = np.asarray(probabilities, dtype=float).reshape(-1)
    if len(p) != len(classes):
        raise LabkitError(f"{len(p)} probabilities for {len(classes)} classes")
    fig = go.Figure(go.Bar(x=[str(c) for c in classes], y=p, marker_color="#1f77b4", marker_line_color="black",
                           marker_line_width=[3 if k == target else 0 for k in range(len(p))],
                           hovertemplate="%{x}: %{y:.3f}<extra></extra>"))
    parts = ["prediction"] + ([] if label is None else [f"true class: {classes[label]}"]) + (
        [] if target is None else ["outlined: explained class"])
    fig.update_xaxes(type="category")
    fig.update_layout(title=title or "; ".join(parts), yaxis=dict(range=[0, 1], title="probability"),
                      template="plotly_white", height=300, margin=dict(l=60, r=10, t=50, b=40))
    return fig
