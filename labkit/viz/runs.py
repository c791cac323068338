"""Many runs at once: hyper-parameters against accuracy (scatter or parallel coordinates)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from labkit.errors import LabkitError

SCORE_COLUMNS = ("best_val_accuracy", "val_accuracy", "top1", "accuracy")


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


def runs_scatter(table: pd.DataFrame, x: str, y: str | None = None, color: str | None = None,
                 log_x: bool = False, title: str | None = None) -> go.Figure:
    """One marker per run: hyper-parameter `x` against accuracy `y` (default: the best score
    column), coloured by `color`; hover names the run. Categorical x works too."""
    y = y or score_column(table)
    for c in (x, y, color):
        if c is not None and c not in table:
            raise LabkitError(f"no column {c!r} in the runs table; columns: {list(table.columns)}")
    names = _labels(table)
    fig = go.Figure()
    groups = table.groupby(table[color].map(str), sort=True) if color else [(None, table)]
    for key, df in groups:
        fig.add_trace(go.Scatter(
            x=df[x] if pd.api.types.is_numeric_dtype(df[x]) else df[x].map(str), y=df[y], mode="markers",
            name=f"{color}={key}" if color else y, marker=dict(size=11, line=dict(width=1, color="white")),
            text=[names[table.index.get_loc(i)] for i in df.index],
            hovertemplate="%{text}<br>" + x + " %{x}<br>" + y + " %{y:.3f}<extra></extra>"))
    fig.update_xaxes(title_text=x, type="log" if log_x else None)
    fig.update_yaxes(title_text=y)
    fig.update_layout(title=title or f"{y} against {x}", template="plotly_white", height=380,
                      showlegend=color is not None, margin=dict(l=60, r=10, t=50, b=40))
    return fig


def runs_parallel(table: pd.DataFrame, columns: list[str], color: str | None = None,
                  title: str | None = None) -> go.Figure:
    """Parallel coordinates: one line per run through the hyper-parameters in `columns` and the
    score (last axis, also the colour). Text columns become axes with their values as ticks."""
    color = color or score_column(table)
    dims = []
    for c in [*columns, color]:
        if c not in table:
            raise LabkitError(f"no column {c!r} in the runs table; columns: {list(table.columns)}")
        s = table[c]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            text = s.map(str)  # missing values become "nan"/"None" categories, not holes
            cats = sorted(text.unique())
            dims.append(dict(label=c, values=[cats.index(v) for v in text],
                             tickvals=list(range(len(cats))), ticktext=cats))
        else:
            dims.append(dict(label=c, values=s.astype(float).to_numpy()))
    score = np.asarray(table[color], dtype=float)
    fig = go.Figure(go.Parcoords(dimensions=dims, line=dict(color=score, colorscale="Viridis", showscale=True,
                                                            colorbar=dict(title=color))))
    fig.update_layout(title=title or f"hyper-parameters against {color}", height=420,
                      margin=dict(l=60, r=140, t=80, b=30))
    return fig
