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


def order_notes(summary) -> list[str]:
    """(L,) a note per layer where the order the model computes differs from the order
    `print(model)` lists its modules ("" elsewhere).

    The summary lists layers as they compute. A ConvBlock with a non-decreasing activation pools
    first (max pooling commutes with it: the same output on pool**2 times fewer values), while
    its children - and so print(model) - keep conv, [bn], activation, pool. A row whose module
    index is higher than a later sibling's (blocks.0.3 before blocks.0.2) is such a swap.
    """
    t = _table(summary)
    names = [str(n) for n in t["layer"]]
    kinds = [str(k) for k in t["type"]] if "type" in t else names
    notes = [""] * len(names)
    for i, name in enumerate(names):
        parent, _, idx = name.rpartition(".")
        for j in range(i + 1, len(names)):
            other_parent, _, other = names[j].rpartition(".")
            if parent and other_parent == parent and idx.isdigit() and other.isdigit() and int(other) < int(idx):
                notes[i] = f"runs before {names[j]} ({kinds[j]}); print(model) lists it after: same output, less work"
                notes[j] = f"runs after {name} ({kinds[i]}), on its output; print(model) lists it before"
    return notes


def layer_table(summary, title: str | None = None) -> go.Figure:
    """The layer-by-layer table (go.Table) with a totals row: layer, output shape, parameters,
    FLOPs, activation memory — what `model.summary()` prints in Keras, plus compute — in the order
    the model computes; a "note" column (when needed) says where that differs from print(model)."""
    t, tot = _table(summary), _totals(summary)
    mem = t["activation_bytes"] if "activation_bytes" in t else [None] * len(t)
    kinds = t["type"] if "type" in t else [""] * len(t)
    cells = [list(t["layer"]) + ["total"], list(kinds) + [""],
             [_shape(s) for s in t["output_shape"]] + [""],
             [format_count(v) for v in t["params"]] + [format_count(tot.get("params"))],
             [format_count(v) for v in t["flops"]] + [format_count(tot.get("flops"))],
             [format_count(v, "B") for v in mem] + [format_count(tot.get("activation_bytes"), "B")]]
    header, widths = ["layer", "type", "output shape", "parameters", "FLOPs", "activations"], [1.1, 1.6, 1.3, 1, 1, 1]
    notes = order_notes(summary)
    if any(notes):
        cells.append(notes + [""])
        header.append("note (computed order vs print(model))")
        widths.append(3.2)
    fig = go.Figure(go.Table(
        header=dict(values=header, fill_color="#e8eef7", align="left"),
        columnwidth=widths,
        cells=dict(values=cells, align="left", fill_color=[["white"] * len(t) + ["#f3f3f3"]] * len(header)),
    ))
    fig.update_layout(title=title, height=90 + 24 * (len(t) + 1) + 12 * sum(bool(n) for n in notes),
                      margin=dict(l=10, r=10, t=40 if title else 10, b=10))
    return fig


def model_diagram(summary, title: str | None = None) -> go.Figure:
    """Layers left to right, in the order the model computes (the summary's rows), as bars of
    parameters (top) and FLOPs per clip (bottom), both log scale; each bar is labelled with the
    count it shows (the output shape is in the hover): where the weights sit versus where
    compute goes. Bars sit at x = 0, 1, ... with the layer names as tick labels, so the order
    is the summary's whatever layers an update adds (plotly keeps the first-seen order of
    categorical x values across updates)."""
    t = _table(summary)
    names = [str(n) for n in t["layer"]]
    kinds = list(t["type"]) if "type" in t else [""] * len(t)
    shapes = [_shape(s) for s in t["output_shape"]]
    notes = [f"<br>{n}" if n else "" for n in order_notes(summary)]
    x = list(range(len(names)))
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("parameters per layer", "FLOPs per layer (one clip)"))
    for row, (col, label, color) in enumerate((("params", "parameters", "#4c78a8"),
                                               ("flops", "FLOPs", "#f58518")), start=1):
        fig.add_trace(go.Bar(
            x=x, y=t[col].clip(lower=0), name=label, marker_color=color, showlegend=False,
            text=[format_count(v) if v > 0 else "" for v in t[col]], textposition="outside", cliponaxis=False,
            customdata=list(zip(names, shapes, [format_count(v) for v in t["params"]],
                                [format_count(v) for v in t["flops"]], kinds, notes)),
            hovertemplate="%{customdata[0]} %{customdata[4]}<br>output %{customdata[1]}<br>parameters "
                          "%{customdata[2]}<br>FLOPs %{customdata[3]}%{customdata[5]}<extra></extra>",
        ), row=row, col=1)
        fig.update_yaxes(type="log", title_text=label, row=row, col=1)
    tot = _totals(summary)
    totals = f"total: {format_count(tot.get('params'))} parameters, {format_count(tot.get('flops'))} FLOPs per clip"
    fig.update_layout(title=title or totals, height=520, template="plotly_white",
                      margin=dict(l=60, r=10, t=70, b=90))
    fig.update_xaxes(tickangle=-30, tickmode="array", tickvals=x, ticktext=names)
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
