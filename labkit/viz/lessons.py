"""The lessons' figures: measurements over seeds drawn with their spread (95% intervals of the
mean as error bars or bands), never a single run's line."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from labkit.errors import LabkitError
from labkit.runs.stats import mean_ci

COLOURS = qualitative.Safe  # colour-blind-safe


def _colour(i: int) -> str:
    return COLOURS[i % len(COLOURS)]


def _need(df: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c not in df]
    if missing:
        raise LabkitError(f"{what} needs columns {missing}; got {list(df.columns)}")


def summary_bars(summary: pd.DataFrame, x: str, title: str | None = None, chance: float | None = None,
                 yaxis: str = "test accuracy") -> go.Figure:
    """One bar per group of a `runs.summarize` table (mean, with its 95% interval as the error
    bar and n in the hover), and a dotted line at `chance`."""
    _need(summary, [x, "mean", "ci_low", "ci_high", "n"], "summary_bars")
    fig = go.Figure(go.Bar(
        x=summary[x].astype(str), y=summary["mean"], marker_color=[_colour(i) for i in range(len(summary))],
        error_y=dict(type="data", symmetric=False, array=(summary["ci_high"] - summary["mean"]).fillna(0),
                     arrayminus=(summary["mean"] - summary["ci_low"]).fillna(0)),
        customdata=summary["n"], hovertemplate="%{x}<br>mean %{y:.3f}<br>n=%{customdata} runs<extra></extra>"))
    if chance is not None:
        fig.add_hline(y=chance, line=dict(dash="dot", color="#555"), annotation_text=f"chance {chance:g}")
    fig.update_layout(title=title, yaxis_title=yaxis + " (mean, 95% CI)", template="plotly_white", height=340,
                      margin=dict(l=60, r=10, t=50, b=40))
    return fig


def span_curves(summary: pd.DataFrame, chance: float | None = None, title: str | None = None) -> go.Figure:
    """Accuracy against memory span, one line per temporal model (`runs.summarize(table,
    by=["cell", "span"], ...)`), error bars = 95% intervals over seeds."""
    _need(summary, ["cell", "span", "mean", "ci_low", "ci_high", "n"], "span_curves")
    fig = go.Figure()
    for i, (cell, df) in enumerate(summary.groupby("cell", sort=False)):
        df = df.sort_values("span")
        fig.add_trace(go.Scatter(
            x=df["span"], y=df["mean"], name=str(cell), mode="lines+markers", line=dict(color=_colour(i)),
            error_y=dict(type="data", symmetric=False, array=(df["ci_high"] - df["mean"]).fillna(0),
                         arrayminus=(df["mean"] - df["ci_low"]).fillna(0)),
            customdata=df["n"], hovertemplate=f"{cell}<br>span %{{x}}<br>accuracy %{{y:.3f}}"
                                              f"<br>n=%{{customdata}}<extra></extra>"))
    if chance is not None:
        fig.add_hline(y=chance, line=dict(dash="dot", color="#555"), annotation_text=f"chance {chance:g}")
    fig.update_xaxes(title_text="span: frames the cue must be carried", dtick=None)
    fig.update_yaxes(title_text="test accuracy (mean, 95% CI)", range=[0, 1.05])
    fig.update_layout(title=title or "memory span", template="plotly_white", height=380,
                      margin=dict(l=60, r=10, t=50, b=40))
    return fig


def _band(fig: go.Figure, x, rows: pd.DataFrame, name: str, colour: str, log: bool = False) -> None:
    """A mean line with its 95% interval as a shaded band; `rows` hold one value per seed at each x."""
    stats = [mean_ci(np.log10(v) if log else v) for v in rows]
    mean = np.array([s["mean"] for s in stats])
    low = np.array([s["ci_low"] if np.isfinite(s["ci_low"]) else s["mean"] for s in stats])
    high = np.array([s["ci_high"] if np.isfinite(s["ci_high"]) else s["mean"] for s in stats])
    if log:
        mean, low, high = 10 ** mean, 10 ** low, 10 ** high
    x = list(x)
    fig.add_trace(go.Scatter(x=x + x[::-1], y=list(high) + list(low)[::-1], fill="toself", fillcolor=colour,
                             opacity=0.18, line=dict(width=0), hoverinfo="skip", showlegend=False, legendgroup=name))
    fig.add_trace(go.Scatter(x=x, y=mean, name=name, mode="lines+markers", line=dict(color=colour), legendgroup=name,
                             hovertemplate=name + "<br>%{x}<br>%{y:.3g}<extra></extra>"))


def curves_with_bands(histories: pd.DataFrame, group: str, metric: str = "val_accuracy", x: str = "epoch",
                      title: str | None = None, log: bool = False) -> go.Figure:
    """`metric` against `x`, one line per value of `group` (the mean over seeds) in a band of its
    95% interval; histories: rows of many runs with columns group, seed, x, metric."""
    _need(histories, [group, "seed", x, metric], "curves_with_bands")
    fig = go.Figure()
    for i, (key, df) in enumerate(histories.groupby(group, sort=False)):
        per_x = df.groupby(x)[metric]
        _band(fig, per_x.groups.keys(), [g.to_numpy() for _, g in per_x], f"{group} {key}", _colour(i), log)
    fig.update_xaxes(title_text=x)
    fig.update_yaxes(title_text=f"{metric} (mean, 95% CI over seeds)", type="log" if log else None)
    fig.update_layout(title=title, template="plotly_white", height=380, margin=dict(l=60, r=10, t=50, b=40),
                      legend=dict(orientation="h", y=-0.2))
    return fig


def batch_gradients(batches: pd.DataFrame, group: str, title: str | None = None) -> go.Figure:
    """The gradient norm of every update (before clipping), log-scaled, one thin line per run,
    coloured by `group` (e.g. grad_clip): spikes show where the gradient explodes."""
    _need(batches, [group, "seed", "step", "grad_norm"], "batch_gradients")
    fig = go.Figure()
    keys = list(dict.fromkeys(batches[group].astype(str)))
    for (key, seed), df in batches.groupby([batches[group].astype(str), "seed"], sort=False):
        fig.add_trace(go.Scatter(x=df["step"], y=df["grad_norm"], mode="lines", name=f"{group} {key}",
                                 legendgroup=key, showlegend=bool(seed == batches["seed"].min()),
                                 line=dict(color=_colour(keys.index(key)), width=1), opacity=0.7,
                                 hovertemplate=f"{group} {key}, seed {seed}<br>step %{{x}}<br>|grad| %{{y:.3g}}"
                                               "<extra></extra>"))
    fig.update_xaxes(title_text="update (batch)")
    fig.update_yaxes(title_text="gradient norm (before clipping)", type="log")
    fig.update_layout(title=title, template="plotly_white", height=360, margin=dict(l=60, r=10, t=50, b=40))
    return fig
