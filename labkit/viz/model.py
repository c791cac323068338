"""A model's anatomy and cost: per-layer shapes, parameters, FLOPs and activation memory.

Every builder takes a `models.summary(...)` result (or its `.table` DataFrame with columns
layer, output_shape, params, flops, activation_bytes).
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from labkit.errors import LabkitError

COST_COLUMNS = (("params", "parameters", ""), ("flops", "FLOPs / clip", ""), ("activation_bytes", "activations", "B"))


def format_count(n, unit: str = "") -> str:
    """7894858 -> '7.89 M'; 2048 bytes with unit 'B' -> '2.05 kB'. Readable cost figures."""
    if n is None or pd.isna(n):
        return "–"
    n = float(n)
    for div, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.3g} {prefix}{unit}"
    return f"{n:.4g} {unit}".rstrip()


def _table(summary) -> pd.DataFrame:
    table = getattr(summary, "table", summary)
    missing = {"layer", "output_shape", "params", "flops"} - set(table.columns)
    if missing:
        raise LabkitError(f"summary table lacks columns {sorted(missing)}; pass models.summary(config)")
    return table


def _totals(summary) -> dict:
    """`summary.totals` when given a ModelSummary, else the column sums of the table."""
    totals = getattr(summary, "totals", None)
    if totals is not None:
        return dict(totals)
    t = _table(summary)
    return {key: float(t[key].sum()) for key, _, _ in COST_COLUMNS if key in t}


def _shape(s) -> str:
    return "×".join(str(d) for d in s) if isinstance(s, (tuple, list)) else str(s)


def layer_table(summary, title: str | None = None) -> go.Figure:
    """The layer-by-layer table (go.Table) with a totals row: layer, output shape, parameters,
    FLOPs, activation memory — what `model.summary()` prints in Keras, plus compute."""
    t, tot = _table(summary), _totals(summary)
    mem = t["activation_bytes"] if "activation_bytes" in t else [None] * len(t)
    kinds = t["type"] if "type" in t else [""] * len(t)
    cells = [list(t["layer"]) + ["total"], list(kinds) + [""],
             [_shape(s) for s in t["output_shape"]] + [""],
             [format_count(v) for v in t["params"]] + [format_count(tot.get("params"))],
             [format_count(v) for v in t["flops"]] + [format_count(tot.get("flops"))],
             [format_count(v, "B") for v in mem] + [format_count(tot.get("activation_bytes"), "B")]]
    fig = go.Figure(go.Table(
        header=dict(values=["layer", "type", "output shape", "parameters", "FLOPs", "activations"],
                    fill_color="#e8eef7", align="left"),
        columnwidth=[1.1, 1.6, 1.3, 1, 1, 1],
        cells=dict(values=cells, align="left",
                   fill_color=[["white"] * len(t) + ["#f3f3f3"]] * 6),
    ))
    fig.update_layout(title=title, height=90 + 24 * (len(t) + 1), margin=dict(l=10, r=10, t=40 if title else 10, b=10))
    return fig


def model_diagram(summary, title: str | None = None) -> go.Figure:
    """Layers left to right as bars of parameters (top) and FLOPs (bottom, log scale), each bar
    labelled with the layer's output shape: where the weights sit versus where compute goes."""
    t = _table(summary)
    names = [str(n) for n in t["layer"]]
    kinds = list(t["type"]) if "type" in t else [""] * len(t)
    shapes = [_shape(s) for s in t["output_shape"]]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=("parameters per layer", "FLOPs per layer (one clip)"))
    for row, (col, color) in enumerate((("params", "#4c78a8"), ("flops", "#f58518")), start=1):
        fig.add_trace(go.Bar(
            x=names, y=t[col].clip(lower=0), name=col, marker_color=color, showlegend=False,
            text=shapes if row == 1 else [format_count(v) for v in t[col]], textposition="outside",
            customdata=list(zip(shapes, [format_count(v) for v in t["params"]], [format_count(v) for v in t["flops"]],
                                kinds)),
            hovertemplate="%{x} %{customdata[3]}<br>output %{customdata[0]}<br>params %{customdata[1]}"
                          "<br>FLOPs %{customdata[2]}<extra></extra>",
        ), row=row, col=1)
        fig.update_yaxes(type="log", row=row, col=1)
    tot = _totals(summary)
    totals = f"total: {format_count(tot.get('params'))} parameters, {format_count(tot.get('flops'))} FLOPs per clip"
    fig.update_layout(title=title or totals, height=520, template="plotly_white",
                      margin=dict(l=50, r=10, t=70, b=90))
    fig.update_xaxes(tickangle=-30)
    return fig


def cost_comparison(summaries: dict, title: str | None = None) -> go.Figure:
    """Total parameters, FLOPs and activation memory of several configs side by side
    (e.g. {"seed": summary(seed), "default": summary(default)}), log-scaled bars."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=[c[1] for c in COST_COLUMNS])
    names = list(summaries)
    for col, (key, label, unit) in enumerate(COST_COLUMNS, start=1):
        vals = [_totals(s).get(key) for s in summaries.values()]
        fig.add_trace(go.Bar(x=names, y=vals, name=label, showlegend=False,
                             text=[format_count(v, unit) for v in vals], textposition="outside"), row=1, col=col)
        fig.update_yaxes(type="log", row=1, col=col)
    fig.update_layout(title=title or "cost per clip", height=340, template="plotly_white",
                      margin=dict(l=50, r=10, t=70, b=40))
    return fig
