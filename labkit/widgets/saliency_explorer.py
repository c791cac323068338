"""`SaliencyExplorer`: pick a clip, a target and a method; scrub or play through the frames
with the attribution heatmap on top and frame-importance bars under it; two methods side by side.

The explorer computes nothing itself: predictions come from `train.evaluate`, maps from
`explain.attribute` (cached per clip/target/method/parameters), figures from `viz.saliency_overlay`.
It offers only the methods that can explain its model; a figure that cannot be drawn (an error,
or no clip passing the filters) is cleared and says why, never left showing an older picture.
"""
from __future__ import annotations

import html
import time
from collections import OrderedDict

import ipywidgets as W
import numpy as np

from labkit.errors import LabkitError
from .. import explain, train, viz
from .clip_editor import ClipEditor
from .export_controls import ExportControls
from .faithfulness_panel import FaithfulnessPanel
from .framed_figure import FramedFigure
from .method_controls import MethodControls, offered_methods

FILTERS = ("all", "correct", "wrong")
PREDICTED = -1  # target dropdown value meaning "the predicted class"
CACHE_SIZE = 32


STYLE = {"description_width": "90px"}
WIDE = dict(width="360px")  # the longest clip label ("#12: up-left → down-right (0.53)") fits


def wrapping() -> W.Layout:
    """A box's layout that keeps its children side by side while there is room, then below."""
    return W.Layout(flex_flow="row wrap", align_items="flex-start")


class SaliencyExplorer(W.VBox):
    """Browse a dataset through a model's eyes.

    SaliencyExplorer(model, ds, evaluation=None, method="integrated_gradients",
                     compare_method="frame_ablation", fps=4, opacity=0.6)
    evaluation: a `train.EvalResult` of `model` on `ds` (computed when None) — it sorts clips
    into correct / wrong. Controls: `.filter` (all/correct/wrong), `.class_filter` (true class),
    `.clip` (dataset index), `.target` (-1 = predicted class, else a class index),
    `.method_a` / `.method_b` (MethodControls, offering only the methods that can explain the
    model; `.refused` says why the others are missing), `.compare` (Checkbox: side by side),
    `.frame` (IntSlider) linked to `.play`, `.opacity`, `.signed`. Output: `.figure_a`,
    `.figure_b` (FigureWidgets), `.info` (true/predicted), `.status`. `.attribution_a` /
    `.attribution_b` hold the `explain.Attribution`s shown (None where a figure is cleared).
    `.figure_decision`: when did the model decide — P(class) after each prefix of frames
    (`model.predict_prefixes`) under method A's frame importance, with the frame cursor.
    `.tools` (Accordion, closed at first): "what if…" opens `.editor` (a `ClipEditor` on the
    current clip, built when first opened), "export" `.export` (`ExportControls`: GIF, MP4, HTML)
    and "should I believe it?" `.faithfulness` (`FaithfulnessPanel`: verdicts with intervals).
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
        specs, self.refused = offered_methods(model)
        if method in self.refused:
            raise LabkitError(f"{method} cannot explain this model: {self.refused[method]}")
        names = [s.name for s in specs]
        compare_method = compare_method if compare_method in names else names[0]
        self.method_a = MethodControls(specs, method, "method")
        self.method_b = MethodControls(specs, compare_method, "compare with")
        self._build_controls(ds, fps, opacity)
        self._a, self._b, self._decision = FramedFigure(), FramedFigure(), FramedFigure()
        self.figure_a, self.figure_b, self.figure_decision = self._a.widget, self._b.widget, self._decision.widget
        self._prefixes: dict[int, np.ndarray] = {}
        self.editor, self.export = None, ExportControls(self._shown)
        self._editor_box = W.VBox([W.HTML("<i>opening the editor…</i>")])
        self.faithfulness = FaithfulnessPanel(model, ds, self.method_a)
        self.tools = W.Accordion([self._editor_box, self.export, self.faithfulness], selected_index=None)
        self.tools.set_title(0, "what if… edit the clip (drop, freeze, reverse, shuffle, mask, swap frames)")
        self.tools.set_title(1, "export the explanation (GIF, MP4, HTML)")
        self.tools.set_title(2, "should I believe it? faithfulness checks with confidence intervals")
        self._panel_b = W.VBox([self.method_b, self.figure_b])  # a FigureWidget's .layout is plotly's: hide its box
        self._panel_b.layout.display = "none"
        labels = {m.name: m.label for m in explain.methods()}
        self.unavailable = W.HTML("".join(
            f"<small style='color:#666'>not offered for this model: <b>{html.escape(labels[name])}</b> — "
            f"{html.escape(why)}</small><br>" for name, why in self.refused.items()), layout=W.Layout(max_width="860px"))
        super().__init__([
            W.HBox([W.VBox([self.filter, self.class_filter, self.clip, self.info]),
                    W.VBox([self.target, self.opacity, self.signed, self.compare])], layout=wrapping()),
            W.HBox([self.play, self.frame]),
            self.status,
            W.HBox([W.VBox([self.method_a, self.figure_a]), self.figure_decision, self._panel_b], layout=wrapping()),
            self.unavailable,
            self.tools,
        ])
        self.add_class("labkit-saliency-explorer")
        self._wire()
        self._refresh_clips()
        self._explain()

    def _build_controls(self, ds, fps: float, opacity: float) -> None:
        self.filter = W.ToggleButtons(options=list(FILTERS), value="all", description="clips",
                                      style={**STYLE, "button_width": "70px"})
        self.class_filter = W.Dropdown(options=[("all classes", -1)] + [(c, i) for i, c in enumerate(ds.classes)],
                                       value=-1, description="true class", style=STYLE, layout=W.Layout(**WIDE))
        self.clip = W.Dropdown(description="clip", style=STYLE, layout=W.Layout(**WIDE))
        self.info = W.HTML(layout=W.Layout(**WIDE))
        self.target = W.Dropdown(options=[("predicted class", PREDICTED)] + [(f"{i}: {c}", i) for i, c in
                                                                            enumerate(ds.classes)],
                                 value=PREDICTED, description="explain class", style=STYLE, layout=W.Layout(**WIDE))
        self.compare = W.Checkbox(value=False, description="side by side with a second method", indent=False)
        self.frame = W.IntSlider(value=0, min=0, max=1, description="frame", style={"description_width": "50px"})
        self.play = W.Play(value=0, min=0, max=1, interval=int(1000 / fps), description="play")
        W.jslink((self.play, "value"), (self.frame, "value"))
        self.opacity = W.FloatSlider(value=opacity, min=0.0, max=1.0, step=0.05, description="opacity",
                                     style=STYLE, layout=W.Layout(**WIDE))
        plus, minus = viz.saliency.SIGNED_NAMES
        self.signed = W.Checkbox(value=False, description=f"signed ({plus}: for the class, {minus}: against)",
                                 indent=False)
        self.status = W.HTML()

    def _wire(self) -> None:
        for w in (self.filter, self.class_filter):
            w.observe(lambda _: self._refresh_clips(), names="value")
        for w in (self.clip, self.target, self.compare, self.signed):
            w.observe(lambda _: self._explain(), names="value")
        self.method_a.on_change(self._explain)
        self.method_b.on_change(self._explain)
        self.frame.observe(self._on_frame, names="value")
        self.opacity.observe(self._on_opacity, names="value")
        self.tools.observe(lambda _: self._sync_editor(), names="selected_index")

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
            self._show_nothing(self._empty_message())

    def _empty_message(self) -> str:
        """Why no clip passes the filters, in the student's terms."""
        which = self.filter.value
        of = "" if self.class_filter.value == -1 else f" of class {self.ds.classes[self.class_filter.value]}"
        if which == "wrong":
            return f"no mistakes: the model classified every clip{of} correctly"
        if which == "correct":
            return f"no clip{of} was classified correctly"
        return f"no clip{of} in this dataset"

    def _show_nothing(self, message: str) -> None:
        self.attribution_a = self.attribution_b = None
        self.info.value = ""
        self.status.value = f"<i>{html.escape(message)}</i>"
        for figure in (self._a, self._b, self._decision):
            figure.clear(message)

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
        clip, _ = self.ds[index]
        self.info.value = self._info_html(index)
        t_len = len(clip)
        self.frame.max = self.play.max = t_len - 1
        self.frame.value = min(self.frame.value, t_len - 1)
        compare = self.compare.value
        self._panel_b.layout.display = None if compare else "none"
        self.status.value = "computing…"
        start = time.perf_counter()
        panels = [(self._a, self.method_a)] + ([(self._b, self.method_b)] if compare else [])
        shown, errors = [], []
        for overlay, controls in panels:
            try:
                attr = self._attribute(controls, index)
            except (ValueError, RuntimeError) as e:  # e.g. parameters the clip cannot take
                overlay.clear(f"{controls.method}: cannot explain this clip (see above)")
                errors.append(f"{controls.method}: {e}")
                attr = None
            else:
                overlay.show(viz.saliency_overlay(clip, attr, signed=self.signed.value, opacity=self.opacity.value,
                                                  frame=self.frame.value, controls=False), self.frame.value)
            shown.append(attr)
        self.attribution_a, self.attribution_b = (shown + [None])[:2]
        self._show_decision(index, clip)
        self.status.value = self._status_html(index, time.perf_counter() - start, errors)
        self._sync_editor()

    def _show_decision(self, index: int, clip: np.ndarray) -> None:
        """The decision curve of clip `index` under method A's frame importance (when it is shown)."""
        if index not in self._prefixes:
            self._prefixes[index] = self.model.predict_prefixes(clip)
        probs = self._prefixes[index]
        scores = None if self.attribution_a is None else self.attribution_a.frame_scores[0]
        self._decision.show(viz.decision_curve(probs, self.ds.classes, scores, decided=explain.decision_frame(probs),
                                               frame=self.frame.value, title="when did the model decide?"), 0)

    def _sync_editor(self) -> None:
        """Build the editor when "what if…" is first opened; keep it on the explorer's clip while open."""
        if self.tools.selected_index != 0 or self.clip.value is None:
            return
        if self.editor is None:
            self.editor = ClipEditor(self.model, self.ds, method=self.method_a, index=self.clip.value)
            self._editor_box.children = [self.editor]
        elif self.editor.index != self.clip.value:
            self.editor.load(self.clip.value)

    def _shown(self) -> dict | None:
        """What method A shows now, for the export: the clip, its attribution and prediction."""
        index = self.clip.value
        if index is None or self.attribution_a is None:
            return None
        return {"clip": self.ds[index][0], "attribution": self.attribution_a, "classes": self.ds.classes,
                "probabilities": self.evaluation.probabilities[index], "label": int(self.ds.labels[index]),
                "title": f"clip #{index}: {self.attribution_a.method}"}

    def _info_html(self, index: int) -> str:
        p = self.predictions.iloc[index]
        probs = self.evaluation.probabilities[index]
        top = np.argsort(probs)[::-1][:3]
        mark = "✓" if p["correct"] else "✗"
        return (f"<b>true</b> {html.escape(str(p['true']))} · <b>predicted</b> "
                f"{html.escape(str(p['predicted']))} {mark}<br><small>top: " +
                ", ".join(f"{html.escape(self.ds.classes[k])} {probs[k]:.2f}" for k in top) + "</small>")

    def _status_html(self, index: int, seconds: float, errors: list[str]) -> str:
        status = "".join(f'<span style="color:#a40000">⚠ {html.escape(e)}</span><br>' for e in errors)
        status += f"<small>clip #{index}: explained in {seconds:.2f} s"
        for attr in (self.attribution_a, self.attribution_b):
            note = "" if attr is None else attr.completeness_note()
            if note:  # integrated gradients / DeepLift: do the attributions add up?
                coarse = (attr.completeness_error() or 0.0) > explain.COMPLETENESS_TOLERANCE
                style = ' style="color:#a40000"' if coarse else ""
                status += f"<br><span{style}>{html.escape(attr.method)}: {html.escape(note)}</span>"
        return status + "</small>"

    def _on_frame(self, change) -> None:
        self._a.goto(change["new"])
        if self.figure_decision.data:
            self.figure_decision.data[-1].x = [change["new"]] * 2  # the decision curve's frame cursor
        if self.compare.value:
            self._b.goto(change["new"])

    def _on_opacity(self, change) -> None:
        for fw in (self.figure_a, self.figure_b):
            if len(fw.data) > 1:
                fw.data[1].opacity = change["new"]  # trace 1 of viz.saliency_overlay is the heatmap

