"""A long video's timeline: class probabilities over time, and the segments each class leads."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from labkit.errors import LabkitError

META = ("path", "start", "end", "predicted", "probability")


def timeline(table: pd.DataFrame, segments: pd.DataFrame | None = None, title: str | None = None) -> go.Figure:
    """One line per class: its probability in each window (`runs.timeline`), drawn at the window's
    middle; under them, one band per segment (`runs.segments`) labelled with its class."""
    classes = [c for c in table.columns if c not in META]
    if not classes or not {"start", "end"} <= set(table.columns):
        raise LabkitError("timeline needs runs.timeline's table: start, end and one column per class")
    middle = (table["start"] + table["end"]) / 2
    colours = {c: qualitative.Safe[i % len(qualitative.Safe)] for i, c in enumerate(classes)}
    fig = go.Figure([go.Scatter(x=middle, y=table[c], name=c, mode="lines", line=dict(color=colours[c]),
                                hovertemplate=f"{c}<br>%{{x:.2f}}: %{{y:.2f}}<extra></extra>") for c in classes])
    for s in (segments.itertuples() if segments is not None else []):
        fig.add_vrect(x0=s.start, x1=s.end, fillcolor=colours.get(s.label, "#ccc"), opacity=0.12, line_width=0,
                      annotation_text=str(s.label), annotation_position="top left")
    fig.update_yaxes(title_text="class probability", range=[0, 1.05])
    fig.update_xaxes(title_text="time (window middle)")
    fig.update_layout(title=title or "class probabilities over time", template="plotly_white", height=340,
                      margin=dict(l=60, r=10, t=60, b=40), legend=dict(orientation="h", y=-0.25))
    return fig
