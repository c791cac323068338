"""Many runs at once: hyper-parameters against accuracy (scatter or parallel coordinates).

Settings come in three kinds: numbers, tuples (conv_channels) and text; both figures order
them naturally (`natural_key`: 8 < 16 < 64, (8, 16) < (16, 32), "run2" < "run10") and print
numbers rounded. A setting with only a few values (a sweep over 2-3 sizes) is drawn as those
values, not on a continuous (or log) axis.
"""
from __future__ import annotations

import math
import numbers
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from labkit.errors import LabkitError

SCORE_COLUMNS = ("best_val_accuracy", "val_accuracy", "top1", "accuracy")
FEW_VALUES = 3  # at most this many distinct x values: a categorical axis, never a log one
TICK_VALUES = 6  # a numeric parallel axis with at most this many distinct values ticks exactly at them
NUMBER_FORMAT = ".3~g"  # plotly (d3) ticks: 3 significant digits, no trailing zeros
NUMBER, TUPLE, TEXT, MISSING = range(4)  # the ranks natural_key sorts by


def natural_key(v) -> tuple:
    """A sort key that orders values as people expect: numbers (and bools) by value, tuples
    element by element, text with its numbers compared as numbers ("run2" < "run10"), missing
    values (None, NaN) last. Keys of any two values compare without a TypeError."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return (MISSING,)
    if isinstance(v, (bool, numbers.Real, np.number)):
        return (NUMBER, float(v))
    if isinstance(v, (tuple, list)):
        return (TUPLE, tuple(natural_key(x) for x in v))
    parts = re.split(r"(\d+(?:\.\d+)?)", str(v).lower())
    return (TEXT, tuple((0, float(p)) if i % 2 else (1, p) for i, p in enumerate(parts)))


def _text(v) -> str:
    """A value as an axis label: numbers rounded, tuples as (8, 16)."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (numbers.Real, np.number)):
        return f"{float(v):.3g}"
    return str(tuple(v)) if isinstance(v, list) else str(v)


def natural_categories(values) -> list:
    """The distinct values of `values` in natural order (see `natural_key`)."""
    seen = {}
    for v in values:
        seen.setdefault(_text(v), v)
    return sorted(seen.values(), key=natural_key)


def score_column(table: pd.DataFrame) -> str:
    """The accuracy column a runs table has, best first (best_val_accuracy, val_accuracy, ...)."""
    for c in SCORE_COLUMNS:
        if c in table and table[c].notna().any():
            return c
    raise LabkitError(f"the runs table has no accuracy column (looked for {list(SCORE_COLUMNS)}); "
                      f"columns: {list(table.columns)}")


def _labels(table: pd.DataFrame) -> list[str]:
    for c in ("run", "name", "run_dir"):
        if c in table:
            return [str(v).rstrip("/").rsplit("/", 1)[-1] for v in table[c]]
    return [str(i) for i in table.index]


def _is_number_column(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def runs_scatter(table: pd.DataFrame, x: str, y: str | None = None, color: str | None = None,
                 log_x: bool = False, title: str | None = None) -> go.Figure:
    """One marker per run: hyper-parameter `x` against accuracy `y` (default: the best score
    column), coloured by `color`; hover names the run.

    A numeric x with more than FEW_VALUES distinct values is a continuous axis (log_x: a log
    one); with fewer, and for text or tuple settings, the x axis holds exactly the values, in
    natural order (a log axis over 2 or 3 sizes only spreads them oddly).
    """
    y = y or score_column(table)
    for c in (x, y, color):
        if c is not None and c not in table:
            raise LabkitError(f"no column {c!r} in the runs table; columns: {list(table.columns)}")
    names = _labels(table)
    numeric = _is_number_column(table[x]) and table[x].nunique() > FEW_VALUES
    order = [_text(v) for v in natural_categories(table[x])]
    fig = go.Figure()
    groups = table.groupby(table[color].map(_text), sort=False) if color else [(None, table)]
    groups = sorted(groups, key=lambda g: natural_key(g[1][color].iloc[0]) if color else 0)
    for key, df in groups:
        fig.add_trace(go.Scatter(
            x=df[x] if numeric else df[x].map(_text), y=df[y], mode="markers",
            name=f"{color}={key}" if color else y, marker=dict(size=11, line=dict(width=1, color="white")),
            text=[names[table.index.get_loc(i)] for i in df.index],
            hovertemplate="%{text}<br>" + x + " %{x}<br>" + y + " %{y:.3f}<extra></extra>"))
    if numeric:
        fig.update_xaxes(type="log" if log_x else "linear")
    else:
        fig.update_xaxes(type="category", categoryorder="array", categoryarray=order)
    fig.update_xaxes(title_text=x)
    fig.update_yaxes(title_text=y, tickformat=NUMBER_FORMAT)
    fig.update_layout(title=title or f"{y} against {x}", template="plotly_white", height=380,
                      showlegend=color is not None, margin=dict(l=60, r=10, t=50, b=40))
    return fig


def _dimension(s: pd.Series, label: str) -> dict:
    """One parallel-coordinates axis: numbers rounded (ticks at the values when there are few),
    anything else as categories in natural order."""
    if _is_number_column(s):
        values = s.astype(float).to_numpy()
        dim = dict(label=label, values=values, tickformat=NUMBER_FORMAT)
        distinct = sorted(set(values[~np.isnan(values)]))
        if len(distinct) <= TICK_VALUES:
            dim.update(tickvals=distinct, ticktext=[_text(v) for v in distinct])
        return dim
    cats = [_text(v) for v in natural_categories(s)]  # missing values become a "None"/"nan" category
    text = s.map(_text)
    return dict(label=label, values=[cats.index(v) for v in text], tickvals=list(range(len(cats))), ticktext=cats)


def runs_parallel(table: pd.DataFrame, columns: list[str], color: str | None = None,
                  title: str | None = None) -> go.Figure:
    """Parallel coordinates: one line per run through the hyper-parameters in `columns` and the
    score (last axis, also the colour). Numbers are rounded; text, bools and tuples (conv
    channels) become axes with their values as ticks, in natural order."""
    color = color or score_column(table)
    for c in [*columns, color]:
        if c not in table:
            raise LabkitError(f"no column {c!r} in the runs table; columns: {list(table.columns)}")
    dims = [_dimension(table[c], c) for c in [*columns, color]]
    score = np.asarray(table[color], dtype=float)
    fig = go.Figure(go.Parcoords(dimensions=dims, line=dict(
        color=score, colorscale="Viridis", showscale=True,
        colorbar=dict(title=color, tickformat=NUMBER_FORMAT))))
    fig.update_layout(title=title or f"hyper-parameters against {color}", height=420,
                      margin=dict(l=60, r=140, t=80, b=30))
    return fig
