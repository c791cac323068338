"""`FaithfulnessPanel`: should I believe this heatmap? Run `explain.evaluate_faithfulness` for the
method on screen over a few clips, on demand, and show each check's verdict with its bootstrap
interval — "inconclusive" where the interval overlaps the reference, never a bare comparison."""
from __future__ import annotations

import html
import time

import ipywidgets as W

from labkit.errors import LabkitError
from .. import explain, viz
from .framed_figure import FramedFigure
from .method_controls import method_and_params

VERDICT_COLOUR = {"passed": "#2ca02c", "failed": "#d62728", "inconclusive": "#b8860b"}


def verdict_table(summary) -> str:
    """The judged rows of a faithfulness summary as an HTML table: check, over, value vs reference,
    the difference's 95% interval and the verdict (coloured)."""
    rows = summary[summary["reference"].notna()]
    body = "".join(
        f"<tr><td>{html.escape(str(r.check))}</td><td>{html.escape(str(r.over))}</td><td>{r.value:.3f}</td>"
        f"<td>{r.reference:.3f}</td><td>{r.ci_low:+.3f} .. {r.ci_high:+.3f}</td>"
        f"<td style='color:{VERDICT_COLOUR.get(r.verdict, '#444')}'><b>{html.escape(str(r.verdict))}</b></td></tr>"
        for r in rows.itertuples())
    head = "".join(f"<th style='text-align:left;padding-right:12px'>{h}</th>" for h in
                   ("check", "over", "value", "reference", "difference 95% CI", "verdict"))
    return f"<table style='font-size:12px'><tr>{head}</tr>{body}</table>"


class FaithfulnessPanel(W.VBox):
    """FaithfulnessPanel(model, ds, method): `method` is a name or an object with `.method` and
    `.params` (the explorer's MethodControls), read when `.run` is clicked. `.clips` (IntSlider:
    how many clips), `.run` (Button), `.table` (HTML verdicts), `.figure` (FigureWidget of
    `viz.faithfulness_summary`), `.status`; `.report` holds the last `FaithfulnessReport`."""

    def __init__(self, model, ds, method="integrated_gradients", clips: int = 8):
        self.model, self.ds, self._method, self.report = model, ds, method, None
        self.clips = W.IntSlider(value=min(clips, len(ds)), min=min(3, len(ds)), max=min(64, len(ds)),
                                 description="clips", continuous_update=False, style={"description_width": "50px"})
        self.run = W.Button(description="check this method", icon="check", tooltip=(
            "deletion/insertion against random orders, parameter randomisation and (with evidence) pointing"))
        self.status, self.table = W.HTML(), W.HTML()
        self._figure = FramedFigure()
        self.figure = self._figure.widget
        self.run.on_click(lambda _: self.check())
        super().__init__([W.HBox([self.clips, self.run]), self.status, self.table, self.figure])

    def check(self):
        """Evaluate the method on screen over `.clips` clips and show the verdicts."""
        name, params = method_and_params(self._method)
        self.status.value = f"<i>checking {html.escape(name)} on {self.clips.value} clips…</i>"
        start = time.perf_counter()
        try:
            self.report = explain.evaluate_faithfulness(self.model, self.ds, name, n=self.clips.value, **params)
        except (LabkitError, ValueError, RuntimeError) as e:
            self.report, self.table.value = None, ""
            self.status.value = f'<span style="color:#a40000">⚠ {html.escape(str(e))}</span>'
            self._figure.clear(str(e)[:80])
            return None
        self.table.value = verdict_table(self.report.summary)
        self._figure.show(viz.faithfulness_summary(self.report), 0)
        self.status.value = (f"<small>{html.escape(name)} on {self.clips.value} clips in "
                             f"{time.perf_counter() - start:.1f} s: passed/failed only when the 95% interval "
                             f"over clips lies on one side of the reference, else inconclusive</small>")
        return self.report
