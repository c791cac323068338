"""`FramedFigure`: one FigureWidget showing a viz figure that moves through a clip's frames.

viz builders that follow a frame (`saliency_overlay(..., controls=False)`, `feature_maps`,
`keypoint_tracks`, `state_heatmap`) put one animation frame per time step in `fig.frames`,
each restyling only the traces that change. A FigureWidget holds no animation frames, so
`goto(t)` applies frame t's restyle itself: scrubbing sends only what changes.
"""
from __future__ import annotations

import plotly.graph_objects as go


class FramedFigure:
    """`.widget` (a go.FigureWidget); `show(fig, frame)`, `goto(frame)`, `clear(message)`."""

    def __init__(self):
        self.widget = go.FigureWidget()
        self.frames = []

    def show(self, fig: go.Figure, frame: int) -> None:
        """Draw `fig` (its traces and layout) and go to `frame`."""
        self.frames = list(fig.frames)
        fig = go.Figure(fig)
        fig.frames = ()  # a FigureWidget holds no animation frames: goto() applies them
        if [t.type for t in self.widget.data] != [t.type for t in fig.data]:
            # layout before traces: add_traces reaches plotly.js at once, a batched layout only at the
            # end, and an image trace added first pins its y axis's domain (constrain="domain") to
            # the old layout's [0, 1], which a later relayout does not undo (the frame would drop
            # onto the bars)
            self.widget.data = ()
            self.widget.layout = fig.layout
            self.widget.add_traces(fig.data)
        else:
            with self.widget.batch_update():
                for old, new in zip(self.widget.data, fig.data):
                    old.update(_props(new), overwrite=True)
                self.widget.layout = fig.layout
        self.goto(frame)

    def goto(self, frame: int) -> None:
        """Restyle the traces that depend on the frame (nothing when no figure is shown)."""
        if not self.frames:
            return
        f = self.frames[min(frame, len(self.frames) - 1)]
        with self.widget.batch_update():
            for i, d in zip(f.traces, f.data):
                self.widget.data[i].update(_props(d))

    def clear(self, message: str = "") -> None:
        """No traces, and `message` where the figure was: never a stale picture under a new label."""
        self.frames = []
        with self.widget.batch_update():
            self.widget.data = ()
            self.widget.layout = go.Layout(
                width=420, height=120, margin=dict(l=10, r=10, t=10, b=10), template="plotly_white",
                xaxis=dict(visible=False), yaxis=dict(visible=False),
                annotations=[dict(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                                  font=dict(size=13, color="#a40000"))] if message else [])


def _props(trace) -> dict:
    """A trace's properties without its type and axes (an update keeps where the trace sits)."""
    d = trace.to_plotly_json()
    d.pop("type", None)
    d.pop("xaxis", None), d.pop("yaxis", None)
    return d
