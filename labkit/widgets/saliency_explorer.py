"""`SaliencyExplorer`: pick a clip, a target and a method; scrub or play through the frames
with the attribution heatmap on top and frame-importance bars under it; two methods side by side.

The explorer computes nothing itself: predictions come from `train.evaluate`, maps from
`explain.attribute` (cached per clip/target/method/parameters), figures from `viz.saliency_overlay`.
"""
from __future__ import annotations

import html
import time
from collections import OrderedDict

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from labkit.errors import LabkitError
from .. import explain, train, viz
from .method_controls import MethodControls

FILTERS = ("all", "correct", "wrong")
PREDICTED = -1  # target dropdown value meaning "the predicted class"
CACHE_SIZE = 32


class _Overlay:
    """One FigureWidget showing `viz.saliency_overlay(..., controls=False)`; frames are restyled
    in place from the figure's own animation frames, so scrubbing sends only what changes."""

    def __init__(self):
        self.widget = go.FigureWidget()
        self.frames = []

    def show(self, fig: go.Figure, frame: int) -> None:
        self.frames = list(fig.frames)
        fig = go.Figure(fig)
        fig.frames = ()  # a FigureWidget holds no animation frames: goto() applies them
        if len(self.widget.data) != len(fig.data):
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
                    old.update(_props(new))
                self.widget.layout = fig.layout
        self.goto(frame)

    def goto(self, frame: int) -> None:
        if not self.frames:
            return
        f = self.frames[min(frame, len(self.frames) - 1)]
        with self.widget.batch_update():
            for i, d in zip(f.traces, f.data):
                self.widget.data[i].update(_props(d))

    def clear(self) -> None:
        self.frames = []
        with self.widget.batch_update():
            self.widget.data = ()


def _props(trace) -> dict:
    d = trace.to_plotly_json()
    d.pop("type", None)
    d.pop("xaxis", None), d.pop("yaxis", None)
    return d


class SaliencyExplorer(W.VBox):
    """Browse a dataset through a model's eyes.

    SaliencyExplorer(model, ds, evaluation=None, method="integrated_gradients",
                     compare_method="frame_ablation", fps=4, opacity=0.6)
    evaluation: a `train.EvalResult` of `model` on `ds` (computed when None) — it sorts clips
    into correct / wrong. Controls: `.filter` (all/correct/wrong), `.class_filter` (true class),
    `.clip` (dataset index), `.target` (-1 = predicted class, else a class index),
    `.method_a` / `.method_b` (MethodControls), `.compare` (Checkbox: side by side), `.frame`
    (IntSlider) linked to `.play`, `.opacity`, `.signed`. Output: `.figure_a`, `.figure_b`
    (FigureWidgets), `.info` (true/predicted), `.status`. `.attribution_a` / `.attribution_b`
    hold the last `explain.Attribution`s.
    """

    def __init__(self, model, ds, evaluation=None, method: str = "integrated_gradients",
                 compare_method: str = "frame_ablation", fps: float = 4.0, opacity: float = 0.6):
        self.model, self.ds = model, ds
        self.evaluation = evaluation if evaluation is not None else train.evaluate(model, ds)
        self.predictions = self.evaluation.predictions
        if len(self.predictions) != len(ds):
            raise LabkitError(f"evaluation has {len(self.predictions)} predictions but the dataset {len(ds)} clips; "
                             f"pass train.evaluate(model, ds) of this very dataset")
        self._cache: OrderedDict = OrderedDict()
        self.attribution_a = self.attribution_b = None
        specs = explain.methods()
        names = [s.name for s in specs]
        compare_method = compare_method if compare_method in names else names[0]
        style = {"description_width": "120px"}
        wide = W.Layout(width="330px")

        self.filter = W.ToggleButtons(options=list(FILTERS), value="all", description="clips",
                                      style={"description_width": "120px", "button_width": "70px"})
        self.class_filter = W.Dropdown(options=[("all classes", -1)] + [(c, i) for i, c in enumerate(ds.classes)],
                                       value=-1, description="true class", style=style, layout=wide)
        self.clip = W.Dropdown(description="clip", style=style, layout=wide)
        self.info = W.HTML()
        self.target = W.Dropdown(options=[("predicted class", PREDICTED)] + [(f"{i}: {c}", i) for i, c in
                                                                            enumerate(ds.classes)],
                                 value=PREDICTED, description="explain class", style=style, layout=wide)
        self.method_a = MethodControls(specs, method, "method")
        self.method_b = MethodControls(specs, compare_method, "compare with")
        self.compare = W.Checkbox(value=False, description="side by side with a second method", indent=False)
        self.frame = W.IntSlider(value=0, min=0, max=1, description="frame", style={"description_width": "50px"})
        self.play = W.Play(value=0, min=0, max=1, interval=int(1000 / fps), description="play")
        W.jslink((self.play, "value"), (self.frame, "value"))
        self.opacity = W.FloatSlider(value=opacity, min=0.0, max=1.0, step=0.05, description="opacity",
                                     style={"description_width": "60px"})
        self.signed = W.Checkbox(value=False, description="signed (red +, blue −)", indent=False)
        self.status = W.HTML()
        self._a, self._b = _Overlay(), _Overlay()
        self.figure_a, self.figure_b = self._a.widget, self._b.widget
        self._panel_b = W.Box([self.figure_b])  # a FigureWidget's .layout is plotly's; hide its box
        self.method_b.layout.display = self._panel_b.layout.display = "none"

        left = W.VBox([self.filter, self.class_filter, self.clip, self.info, self.target, self.compare])
        super().__init__([
            W.HBox([left, self.method_a, self.method_b]),
            W.HBox([self.play, self.frame, self.opacity, self.signed]),
            self.status,
            W.HBox([self.figure_a, self._panel_b]),
        ])
        self.add_class("labkit-saliency-explorer")

        self._refresh_clips()
        for w in (self.filter, self.class_filter):
            w.observe(lambda _: self._refresh_clips(), names="value")
        for w in (self.clip, self.target, self.compare, self.signed):
            w.observe(lambda _: self._explain(), names="value")
        self.method_a.on_change(self._explain)
        self.method_b.on_change(self._explain)
        self.frame.observe(self._on_frame, names="value")
        self.opacity.observe(self._on_opacity, names="value")
        self._explain()

    # ---- choosing a clip ------------------------------------------------------------------------
    def clip_indices(self) -> np.ndarray:
        """Dataset indices passing the filters (correct/wrong from the evaluation, true class)."""
        p = self.predictions
        keep = np.ones(len(p), bool)
        if self.filter.value != "all":
            keep &= p["correct"].to_numpy() == (self.filter.value == "correct")
        if self.class_filter.value != -1:
            keep &= np.asarray(self.ds.labels) == self.class_filter.value
        return np.flatnonzero(keep)

    def _refresh_clips(self) -> None:
        p = self.predictions
        idx = self.clip_indices()
        options = [(f"#{i}: {p['true'].iat[i]} → {p['predicted'].iat[i]} ({p['confidence'].iat[i]:.2f})", int(i))
                   for i in idx]
        current = self.clip.value
        with self.hold_sync():
            self.clip.options = options
            if options:
                self.clip.value = current if current in idx else options[0][1]
        if not options:
            self.status.value = "<i>no clip matches these filters</i>"
            self._a.clear()
            self._b.clear()

    # ---- computing and showing ------------------------------------------------------------------
    def _attribute(self, controls: MethodControls, index: int):
        target = None if self.target.value == PREDICTED else self.target.value
        key = (index, target, controls.method, tuple(sorted(controls.params.items())))
        if key not in self._cache:
            clip = self.ds[index][0]
            self._cache[key] = explain.attribute(self.model, clip, target=target, method=controls.method,
                                                 classes=self.ds.classes, **controls.params)
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        return self._cache[key]

    def _explain(self) -> None:
        index = self.clip.value
        if index is None:
            return
        clip, label = self.ds[index]
        p = self.predictions.iloc[index]
        probs = self.evaluation.probabilities[index]
        top = np.argsort(probs)[::-1][:3]
        mark = "✓" if p["correct"] else "✗"
        self.info.value = (f"<b>true</b> {html.escape(str(p['true']))} · <b>predicted</b> "
                           f"{html.escape(str(p['predicted']))} {mark}<br><small>top: " +
                           ", ".join(f"{html.escape(self.ds.classes[k])} {probs[k]:.2f}" for k in top) + "</small>")
        t_len = len(clip)
        self.frame.max = self.play.max = t_len - 1
        self.frame.value = min(self.frame.value, t_len - 1)
        compare = self.compare.value
        self.method_b.layout.display = self._panel_b.layout.display = None if compare else "none"
        self.status.value = "computing…"
        start = time.perf_counter()
        try:
            self.attribution_a = self._attribute(self.method_a, index)
            self.attribution_b = self._attribute(self.method_b, index) if compare else None
        except (ValueError, RuntimeError) as e:  # e.g. a method this model does not allow
            self.status.value = f'<span style="color:#a40000">⚠ {html.escape(str(e))}</span>'
            return
        for overlay, attr in ((self._a, self.attribution_a), (self._b, self.attribution_b)):
            if attr is not None:
                fig = viz.saliency_overlay(clip, attr, signed=self.signed.value, opacity=self.opacity.value,
                                           frame=self.frame.value, controls=False)
                overlay.show(fig, self.frame.value)
        status = f"<small>clip #{index}: explained in {time.perf_counter() - start:.2f} s"
        for attr in (self.attribution_a, self.attribution_b):
            note = "" if attr is None else attr.completeness_note()
            if note:  # integrated gradients / DeepLift: do the attributions add up?
                coarse = (attr.completeness_error() or 0.0) > explain.COMPLETENESS_TOLERANCE
                style = ' style="color:#a40000"' if coarse else ""
                status += f"<br><span{style}>{html.escape(attr.method)}: {html.escape(note)}</span>"
        self.status.value = status + "</small>"

    def _on_frame(self, change) -> None:
        self._a.goto(change["new"])
        if self.compare.value:
            self._b.goto(change["new"])

    def _on_opacity(self, change) -> None:
        for fw in (self.figure_a, self.figure_b):
            if len(fw.data) > 1:
                fw.data[1].opacity = change["new"]  # trace 1 of viz.saliency_overlay is the heatmap
