"""`NetworkInspector`: a look inside a DCRN as it reads one clip — every conv block's feature maps
per frame, where each channel fires (the keypoints the default readout passes on), and the
temporal model's states and gates over time — following a frame slider, and the model as it
changes (a ModelBuilder's settings, or a TrainingDashboard's training, epoch by epoch).

The inspector computes nothing itself: `explain.look_inside` does (tested against the layers'
own outputs), and `viz.feature_maps` / `viz.keypoint_tracks` / `viz.state_heatmap` draw.
"""
from __future__ import annotations

import html
import threading

import ipywidgets as W
import numpy as np

from labkit.errors import SettingError
from .. import explain, models, train, viz
from .framed_figure import FramedFigure
from .model_builder import ModelBuilder
from .saliency_explorer import STYLE, wrapping
from .training_dashboard import TrainingDashboard

MAX_CHANNELS = 15  # feature maps drawn at once; the channel list picks which


class _RedrawAfterEpoch(train.Callback):
    """Redraws an inspector after every epoch of a dashboard's run, in the training thread, between
    batches: the weights it reads are those of a finished epoch."""

    def __init__(self, inspector: "NetworkInspector"):
        self.inspector = inspector

    def on_epoch_end(self, state) -> None:
        self.inspector.update(f"after epoch {len(state.rows)}")


class NetworkInspector(W.VBox):
    """What a DCRN computes for one clip, stage by stage, frame by frame.

    NetworkInspector(source, clips, index=0, frame=0, fps=4)
    source: a `models.DCRN`; a `widgets.ModelBuilder` (a seeded, untrained model of its current
    settings, rebuilt after every change); or a `widgets.TrainingDashboard` (its model, redrawn
    after every epoch it trains). clips: a dataset (then `.clip` picks one) or one uint8 clip
    (T, H, W, C). Controls: `.clip`, `.frame` (IntSlider) linked to `.play`, `.block` (conv block),
    `.channels` (which of its channels), `.series_a` / `.series_b` (which temporal series).
    Output: `.maps_figure`, `.keypoints_figure`, `.state_a`, `.state_b` (FigureWidgets), `.status`.
    `.inside` holds the last `explain.Internals`; `update()` recomputes it from the source's
    current model, `set_model(model)` inspects another model.
    """

    def __init__(self, source, clips, index: int = 0, frame: int = 0, fps: float = 4.0):
        self._source, self._model, self.inside = None, None, None
        self._lock = threading.RLock()  # a dashboard redraws from its training thread
        self.ds = clips if hasattr(clips, "classes") and hasattr(clips, "__getitem__") else None
        self._clip = None if self.ds is not None else np.asarray(clips)
        self._build_controls(index, frame, fps)
        self._maps, self._points, self._a, self._b = (FramedFigure() for _ in range(4))
        self.maps_figure, self.keypoints_figure = self._maps.widget, self._points.widget
        self.state_a, self.state_b = self._a.widget, self._b.widget
        super().__init__([
            W.HBox([self.clip, self.play, self.frame], layout=wrapping()),
            self.status,
            W.HBox([W.VBox([W.HBox([self.block, self.channels]), self.maps_figure]), self.keypoints_figure],
                   layout=wrapping()),
            W.HBox([W.VBox([self.series_a, self.state_a]), W.VBox([self.series_b, self.state_b])], layout=wrapping()),
        ])
        self.add_class("labkit-network-inspector")
        self._wire()
        self.set_source(source)

    def _build_controls(self, index: int, frame: int, fps: float) -> None:
        wide = W.Layout(width="300px")
        options = [] if self.ds is None else [(f"#{i}: {self.ds.classes[y]}", i) for i, y in enumerate(self.ds.labels)]
        self.clip = W.Dropdown(options=options, value=index if options else None, description="clip", style=STYLE,
                               layout=W.Layout(width="300px", display=None if options else "none"))
        self.frame = W.IntSlider(value=frame, min=0, max=max(frame, 1), description="frame",
                                 style={"description_width": "50px"})
        self.play = W.Play(value=frame, min=0, max=max(frame, 1), interval=int(1000 / fps), description="play")
        W.jslink((self.play, "value"), (self.frame, "value"))
        self.block = W.Dropdown(description="conv block", style=STYLE, layout=W.Layout(width="200px"))
        self.channels = W.SelectMultiple(description="channels", rows=4, style={"description_width": "60px"},
                                         layout=W.Layout(width="170px"))
        self.series_a = W.Dropdown(description="left", style={"description_width": "40px"}, layout=wide)
        self.series_b = W.Dropdown(description="right", style={"description_width": "40px"}, layout=wide)
        self.status = W.HTML()

    def _wire(self) -> None:
        self._quiet = False  # True while update() sets several controls; it redraws once after

        def on(widget, fn) -> None:
            widget.observe(lambda _: None if self._quiet else fn(), names="value")

        on(self.clip, self.update)
        on(self.block, self._on_block)
        on(self.channels, self._draw_maps)
        on(self.series_a, lambda: self._draw_series(self._a, self.series_a.value))
        on(self.series_b, lambda: self._draw_series(self._b, self.series_b.value))
        self.frame.observe(lambda change: self._goto(change["new"]), names="value")

    # ---- where the model comes from -------------------------------------------------------------
    def set_source(self, source) -> None:
        """Inspect a DCRN, a ModelBuilder's current model or a TrainingDashboard's model, and redraw."""
        if isinstance(source, ModelBuilder):
            source.on_change(lambda _: self._from_builder())
        elif isinstance(source, TrainingDashboard):
            source.fit_kwargs.setdefault("callbacks", []).append(_RedrawAfterEpoch(self))
        elif not isinstance(source, models.DCRN):
            raise SettingError(f"NetworkInspector needs a models.DCRN, a widgets.ModelBuilder or a "
                               f"widgets.TrainingDashboard; got {type(source).__name__}")
        self._source = source
        self._model = source if isinstance(source, models.DCRN) else None
        self._from_builder() if isinstance(source, ModelBuilder) else self.update()

    def set_model(self, model) -> None:
        """Inspect `model` (a DCRN) from now on."""
        self.set_source(model)

    def _from_builder(self) -> None:
        builder = self._source
        if builder.error is not None:
            self._model = None
            return self._show_nothing(f"the builder's settings are not a valid model: {builder.error}")
        self._model = builder.build_model(seed=0)
        self.update("untrained weights of the builder's settings")

    def _current_model(self):
        if isinstance(self._source, TrainingDashboard):
            return self._source.model
        return self._model

    # ---- computing ------------------------------------------------------------------------------
    def current_clip(self) -> np.ndarray:
        """The clip inspected: uint8 (T, H, W, C)."""
        return self._clip if self.ds is None else self.ds[self.clip.value][0]

    def update(self, why: str = "") -> None:
        """Look inside the source's current model again (after training, or a change) and redraw."""
        with self._lock:
            model = self._current_model()
            if model is None:
                return self._show_nothing("no model yet: press Start on the training dashboard")
            try:
                self.inside = explain.look_inside(model, self.current_clip())
            except (ValueError, RuntimeError) as e:
                return self._show_nothing(str(e))
            self._refresh_choices()
            self.status.value = self._status_html(why)
            self._draw_maps()
            self._draw_keypoints()
            self._draw_series(self._a, self.series_a.value)
            self._draw_series(self._b, self.series_b.value)

    def _refresh_choices(self) -> None:
        """Frame range, blocks, channels and series of the current internals; choices that are
        still valid are kept. The controls change quietly: the caller redraws once."""
        inside = self.inside
        self.frame.max = self.play.max = inside.frames - 1
        names = [s.name for s in inside.temporal]
        defaults = _default_series(inside.temporal)
        self._quiet = True
        try:
            last = len(inside.block_names) - 1
            block = self.block.value if self.block.value is not None and self.block.value <= last else last
            self.block.options = [(name, i) for i, name in enumerate(inside.block_names)]
            self.block.value = block if block >= 0 else None
            self._refresh_channels()
            for dropdown, default in zip((self.series_a, self.series_b), defaults):
                keep = dropdown.value if dropdown.value in names else default
                dropdown.options = names
                dropdown.value = keep
                dropdown.layout.display = None if names else "none"
        finally:
            self._quiet = False

    def _refresh_channels(self) -> None:
        if self.block.value is None:
            return
        count = self.inside.block_maps[self.block.value].shape[1]
        picked = [c for c in self.channels.value if c < count] or list(range(min(count, MAX_CHANNELS)))
        self.channels.options = list(range(count))
        self.channels.value = picked[:MAX_CHANNELS]

    # ---- drawing --------------------------------------------------------------------------------
    def _on_block(self) -> None:
        if self.inside is not None:
            self._refresh_channels()
            self._draw_maps()

    def _draw_maps(self) -> None:
        inside = self.inside
        if inside is None or self.block.value is None:
            return self._maps.clear("this model has no conv block" if inside is not None else "")
        channels = list(self.channels.value)[:MAX_CHANNELS] or None
        name = inside.block_names[self.block.value]
        fig = viz.feature_maps(inside.block_maps[self.block.value], self.frame.value, channels, inside.clip,
                               title=f"{name}: feature maps at this frame")
        self._maps.show(fig, self.frame.value)

    def _draw_keypoints(self) -> None:
        inside = self.inside
        if inside.keypoints is None:
            readout = "keypoints are read from its hidden map" if inside.cell == "convlstm" else \
                "its frame readout is not keypoints"
            return self._points.clear(f"no keypoint tracks: {readout}")
        self._points.show(viz.keypoint_tracks(inside.keypoints, inside.clip, self.frame.value), self.frame.value)

    def _draw_series(self, figure: FramedFigure, name: str | None) -> None:
        if self.inside is None:
            return
        if name is None:
            return figure.clear("no temporal model: the head reads the mean of the frame vectors"
                                if self.inside.cell == "none" else "")
        figure.show(viz.state_heatmap(self.inside.series(name), self.frame.value), self.frame.value)

    def _goto(self, frame: int) -> None:
        with self._lock:
            for figure in (self._maps, self._points, self._a, self._b):
                figure.goto(frame)

    def _show_nothing(self, message: str) -> None:
        self.inside = None
        self.status.value = f'<span style="color:#a40000">⚠ {html.escape(message)}</span>'
        for figure in (self._maps, self._points, self._a, self._b):
            figure.clear(message if figure is self._maps else "")

    def _status_html(self, why: str) -> str:
        inside = self.inside
        probs = inside.probabilities
        k = int(probs.argmax())
        name = self.ds.classes[k] if self.ds is not None and len(self.ds.classes) == len(probs) else f"class {k}"
        notes = "".join(f"<br><small style='color:#666'>{html.escape(n)}</small>" for n in inside.notes)
        return (f"<b>{html.escape(inside.cell)}</b> model{' (' + html.escape(why) + ')' if why else ''}: "
                f"predicts <b>{html.escape(name)}</b> (p={probs[k]:.2f}) for this clip of {inside.frames} frames"
                + notes)


def _default_series(series: list) -> tuple[str | None, str | None]:
    """The series shown first: the last layer's hidden state (or the last output), and beside it
    the gate that decides what the memory keeps (LSTM forget, GRU update), another gate, the
    attention weights, or else the frame vectors."""
    names = [s.name for s in series]
    hidden = [n for n in names if "hidden state h" in n]
    states = [s.name for s in series if s.kind == "state"]
    first = (hidden or states or names or [None])[-1]
    gates = [s.name for s in series if s.kind in ("gate", "weights")]
    keeping = [n for n in gates if "forget gate" in n or "update gate" in n]
    second = (keeping or gates or [n for n in names if n != first] or [None])[-1 if keeping else 0]
    return first, second
