"""`ClipEditor`: "what would the model say if the clip were different?" — edit a clip (drop,
duplicate, freeze, reverse or shuffle frames, mask a region in every frame, swap in a frame of
another clip) and watch the prediction, the decision curve and the heatmap of the edited clip
change beside the original's; or ask for the fewest frames whose removal flips the prediction.

The editor computes nothing itself: edits are `explain.edit`, the search `explain.smallest_flip`,
maps `explain.attribute`, curves `model.predict_prefixes` drawn by `viz.decision_curve`.
"""
from __future__ import annotations

import contextlib
import html
import re

import ipywidgets as W
import numpy as np

from labkit.errors import LabkitError
from .. import explain, viz
from .framed_figure import FramedFigure
from .method_controls import method_and_params

STYLE = {"description_width": "90px"}
WIDE = dict(width="360px")  # a fresh Layout per control: each is shown or hidden on its own
# which controls each edit reads (the others are hidden)
USES = {"drop": ("frames",), "duplicate": ("frames",), "freeze": ("frames",), "reverse": ("frames",),
        "shuffle": ("frames", "seed"), "mask": ("rows", "cols"), "swap": ("frames", "source", "source_frame")}
HINTS = {"drop": "frames to remove", "duplicate": "frames shown twice", "freeze": "from this frame on, hold it",
         "reverse": "span to play backwards (empty: all)", "shuffle": "frames to shuffle (empty: all)",
         "mask": "region covered in every frame", "swap": "frame to replace"}


def parse_frames(text: str) -> list[int] | None:
    """'2-4, 7' -> [2, 3, 4, 7]; '' -> None (the whole clip, where an edit allows it)."""
    text = (text or "").strip()
    if not text:
        return None
    out = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*(-?\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not m:
            raise LabkitError(f"frames {text!r}: write frame numbers and ranges such as '2-4, 7'")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        out += list(range(lo, hi + 1)) if hi >= lo else [lo]
    return out


def format_frames(frames) -> str:
    """[2, 3, 4, 7] -> '2-4, 7'."""
    frames, parts = sorted(int(f) for f in frames), []
    for f in frames:
        if parts and f == parts[-1][1] + 1:
            parts[-1][1] = f
        else:
            parts.append([f, f])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in parts)


class ClipEditor(W.VBox):
    """Counterfactual clips, live.

    ClipEditor(model, ds, method="integrated_gradients", index=0): `method` is a method name, or
    an object with `.method` and `.params` (the explorer's MethodControls), read at every update.
    `load(index)` edits dataset clip `index`. Controls: `.op` (explain.EDITS), `.frames` (text,
    '2-4, 7'), `.rows` / `.cols` (IntRangeSliders: the masked region), `.source` (dataset clip)
    and `.source_frame` (swap), `.seed` (shuffle), `.flip` (Button: the smallest flip), `.reset`.
    Output: `.verdict` (HTML: original vs edited prediction), `.curve` (FigureWidget: decision
    curves, original solid, edited dashed), `.heatmap` (FigureWidget: the edited clip's map) with
    `.frame`. State: `.original`, `.edited` (uint8 clips), `.probs` / `.edited_probs` (K,),
    `.attribution` (of the edited clip, explaining the original's predicted class).
    """

    def __init__(self, model, ds, method="integrated_gradients", index: int = 0):
        self.model, self.ds, self._method = model, ds, method
        self.original = self.edited = self.attribution = None
        self._original_scores, self._quiet = None, False
        self._build()
        super().__init__([
            W.HTML("<b>What if…</b> change the clip and see what the model says (original: solid, edited: dashed)"),
            W.HBox([W.VBox([self.op, self.hint, self.frames, self.seed, self.rows, self.cols, self.source,
                            self.source_frame, W.HBox([self.flip, self.reset])]), self.verdict],
                   layout=W.Layout(flex_flow="row wrap", align_items="flex-start")),
            W.HBox([self.curve, W.VBox([self.frame, self.heatmap])],
                   layout=W.Layout(flex_flow="row wrap", align_items="flex-start")),
        ])
        self.add_class("labkit-clip-editor")
        self.load(index)

    def _build(self) -> None:
        self.op = W.Dropdown(options=list(explain.EDITS), value="drop", description="edit", style=STYLE, layout=W.Layout(**WIDE))
        self.hint = W.HTML()
        self.frames = W.Text(value="0", description="frames", placeholder="e.g. 2-4, 7", continuous_update=False,
                             style=STYLE, layout=W.Layout(**WIDE))
        self.seed = W.IntText(value=0, description="seed", style=STYLE, layout=W.Layout(**WIDE))
        self.rows = W.IntRangeSlider(description="rows", style=STYLE, layout=W.Layout(**WIDE), continuous_update=False)
        self.cols = W.IntRangeSlider(description="columns", style=STYLE, layout=W.Layout(**WIDE), continuous_update=False)
        options = [(f"#{i}: {self.ds.classes[int(y)]}", i) for i, y in enumerate(self.ds.labels)]
        self.source = W.Dropdown(options=options, description="from clip", style=STYLE, layout=W.Layout(**WIDE))
        self.source_frame = W.IntSlider(description="its frame", style=STYLE, layout=W.Layout(**WIDE), continuous_update=False)
        self.flip = W.Button(description="smallest flip", icon="search", tooltip=(
            "the fewest frames whose removal changes the prediction (greedy, guided by frame importance)"))
        self.reset = W.Button(description="reset", icon="undo")
        self.verdict = W.HTML(layout=W.Layout(min_width="300px", max_width="480px"))
        self.verdict.add_class("labkit-verdict")
        self.frame = W.IntSlider(description="frame", style={"description_width": "50px"})
        self._curve, self._map = FramedFigure(), FramedFigure()
        self.curve, self.heatmap = self._curve.widget, self._map.widget
        for w in (self.op, self.frames, self.seed, self.rows, self.cols, self.source_frame):
            w.observe(lambda _: self._quiet or self.update(), names="value")
        self.source.observe(self._on_source, names="value")
        self.frame.observe(lambda c: self._map.goto(c["new"]), names="value")
        self.flip.on_click(lambda _: self.find_flip())
        self.reset.on_click(lambda _: self.load(self.index))

    # ---- inputs ------------------------------------------------------------------------------------
    def load(self, index: int) -> None:
        """Start over from dataset clip `index`: no edit yet (drop frame 0 is offered, not applied)."""
        self.index = int(index)
        self.original = self.ds[self.index][0]
        T, H, W_ = self.original.shape[:3]
        self.probs = self.model.predict_proba(self.original)[0]
        self.predicted = int(self.probs.argmax())
        self.prefixes = self.model.predict_prefixes(self.original)
        self._original_scores = None
        with self.quietly():
            for s, n in ((self.rows, H), (self.cols, W_)):
                s.max, s.value = n, (n // 4, 3 * n // 4)
            self._on_source({"new": self.source.value})
        self.update()

    @contextlib.contextmanager
    def quietly(self):
        """Set several controls without an update after each (one `update()` after, by the caller)."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    def _on_source(self, change) -> None:
        self.source_frame.max = len(self.ds[change["new"]][0]) - 1
        if not self._quiet:
            self.update()

    def edit_args(self) -> dict:
        """The `explain.edit` keyword arguments the controls describe."""
        op, kw = self.op.value, {}
        if "frames" in USES[op]:
            kw["frames"] = parse_frames(self.frames.value)
        if op == "mask":
            (top, bottom), (left, right) = self.rows.value, self.cols.value
            kw["box"] = (top, left, bottom - top, right - left)
        if op == "shuffle":
            kw["seed"] = int(self.seed.value)
        if op == "swap":
            kw["other"], kw["source"] = self.ds[self.source.value][0], int(self.source_frame.value)
        return {"op": op, **kw}

    # ---- outputs -----------------------------------------------------------------------------------
    def update(self) -> None:
        """Apply the edit the controls describe and redraw prediction, curves and heatmap."""
        if self.original is None:
            return
        op = self.op.value
        for name in ("frames", "seed", "rows", "cols", "source", "source_frame"):
            getattr(self, name).layout.display = None if name in USES[op] else "none"
        self.hint.value = f"<small>{HINTS[op]}</small>"
        try:
            self.edited = explain.edit(self.original, **self.edit_args())
        except LabkitError as e:
            self.edited = self.attribution = None
            self.verdict.value = f'<span style="color:#a40000">⚠ {html.escape(str(e))}</span>'
            self._curve.clear("no edited clip: " + str(e)[:60])
            self._map.clear("fix the edit above")
            return
        self._redraw()

    def _redraw(self) -> None:
        method, params = method_and_params(self._method)
        self.edited_probs = self.model.predict_proba(self.edited)[0]
        edited_prefixes = self.model.predict_prefixes(self.edited)
        self.attribution = explain.attribute(self.model, self.edited, target=self.predicted, method=method,
                                             classes=self.ds.classes, **params)
        self.verdict.value = self._verdict_html()
        classes = self.ds.classes
        self._curve.show(viz.decision_curve(self.prefixes, classes, compare={"edited": edited_prefixes},
                                            title="decision: original vs edited"), 0)
        t = min(self.frame.value, len(self.edited) - 1)
        self.frame.max = len(self.edited) - 1
        self._map.show(viz.saliency_overlay(self.edited, self.attribution, frame=t, controls=False,
                                            title=f"edited clip: {method} for {classes[self.predicted]}"), t)

    def _verdict_html(self) -> str:
        c, k = self.ds.classes, int(self.edited_probs.argmax())
        same = k == self.predicted
        mark = ("<span style='color:#2b6'>prediction holds</span>" if same
                else "<span style='color:#a40000'><b>prediction flips</b></span>")
        return (f"<b>original</b> ({len(self.original)} frames): {html.escape(c[self.predicted])} "
                f"{self.probs[self.predicted]:.2f}<br><b>edited</b> ({len(self.edited)} frames): "
                f"{html.escape(c[k])} {self.edited_probs[k]:.2f} · P({html.escape(c[self.predicted])}) "
                f"{self.edited_probs[self.predicted]:.2f}<br>{mark}")

    def find_flip(self) -> list[int] | None:
        """Search the smallest set of frames whose removal flips the prediction; show it as a drop edit."""
        if self._original_scores is None:
            method, params = method_and_params(self._method)
            self._original_scores = explain.attribute(self.model, self.original, method=method, target=self.predicted,
                                                      classes=self.ds.classes, **params).frame_scores[0]
        found = explain.smallest_flip(self.model, self.original, frame_scores=self._original_scores)
        if found is None:
            self.verdict.value = ("no set of frames flips this prediction short of removing them all: "
                                  "the evidence is everywhere, or the model ignores time")
            return None
        with self.quietly():
            self.op.value = "drop"
            self.frames.value = format_frames(found)
        self.update()
        self.verdict.value += f"<br><small>smallest flip: removing {len(found)} frame(s) ({format_frames(found)})</small>"
        return found
