"""`RunsBoard`: every run under a folder as a sortable, filterable table, an overview of the
swept settings against accuracy, and two runs compared (training curves overlaid, config
differences). The table logic lives in `runs_table` (plain, tested functions)."""
from __future__ import annotations

import html
import warnings

import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go

from labkit.errors import LabkitError
from .. import runs, viz
from .html_table import html_table
from .runs_table import _hashable, config_diff, default_columns, filter_runs, sort_runs, swept_settings, \
    varying_columns

__all__ = ["RunsBoard", "config_diff", "varying_columns"]
OVERVIEW_AXES = 8  # settings on the parallel-coordinates overview, at most
_ERROR = '<span style="color:#a40000">⚠ {}</span>'


class RunsBoard(W.VBox):
    """The runs under `root` (folders written by `train.fit(..., run_dir=...)`).

    RunsBoard(root, sort_by=None, filter="")
    Controls: `.filter` (Text: a pandas query such as `hidden_size >= 32 and cell == 'gru'`, or
    plain text to find in the shown columns; applied on Enter), `.sort_by` (Dropdown of the shown
    columns; default: the accuracy column), `.ascending` (ToggleButton), `.all_columns` (Checkbox:
    every column instead of run + the swept settings + metrics), `.run_a` / `.run_b` (Dropdowns of
    run names), `.refresh_button`. Output: `.table_html`, `.curves` (FigureWidget: both runs'
    training curves), `.diff` (HTML), `.overview` (FigureWidget: parallel coordinates of the swept
    settings and the score, for the filtered runs), `.message`. `.table` is the `runs.table(root)`
    DataFrame, `.selected()` the rows the filter keeps (sorted) and `.shown()` the view rendered.
    """

    def __init__(self, root, sort_by: str | None = None, filter: str = ""):
        self.root = root
        self.table = pd.DataFrame()
        self.filter = W.Text(value=filter, description="filter", continuous_update=False,
                             placeholder="text, or a query: hidden_size >= 32",
                             style={"description_width": "40px"}, layout=W.Layout(width="330px"))
        self.sort_by = W.Dropdown(description="sort by", style={"description_width": "50px"},
                                  layout=W.Layout(width="240px"))
        self.ascending = W.ToggleButton(value=False, description="ascending", icon="sort-amount-asc",
                                        tooltip="sort ascending instead of descending", layout=W.Layout(width="110px"))
        self.all_columns = W.Checkbox(value=False, description="all columns", indent=False,
                                      layout=W.Layout(width="110px"))
        self.refresh_button = W.Button(description="Refresh", icon="refresh", layout=W.Layout(width="100px"))
        self.message = W.HTML()
        self.table_html = W.HTML(layout=W.Layout(overflow="auto", max_height="420px"))
        self.run_a = W.Dropdown(description="run A", style={"description_width": "50px"})
        self.run_b = W.Dropdown(description="run B", style={"description_width": "50px"})
        self.curves = go.FigureWidget()
        self.diff = W.HTML()
        self.overview = go.FigureWidget()
        compare = W.VBox([W.HBox([self.run_a, self.run_b]), self.curves, self.diff])
        tabs = W.Tab(children=[self.table_html, compare, self.overview],
                     titles=["runs", "compare two runs", "overview"])
        bar = W.HBox([self.filter, self.sort_by, self.ascending, self.all_columns, self.refresh_button],
                     layout=W.Layout(flex_flow="row wrap"))
        super().__init__([bar, self.message, tabs])
        self.add_class("labkit-runs-board")
        self.table_html.add_class("labkit-runs-table")  # for the browser tests and custom CSS
        self.message.add_class("labkit-runs-message")
        self._sort_request = sort_by
        self.refresh()
        self.sort_by.observe(lambda _: self._draw_table(), names="value")
        self.ascending.observe(lambda _: self._draw_table(), names="value")
        self.all_columns.observe(lambda _: self._set_sort_options(), names="value")
        self.filter.observe(lambda _: self._on_filter(), names="value")
        for w in (self.run_a, self.run_b):
            w.observe(lambda _: self._draw_comparison(), names="value")
        self.refresh_button.on_click(lambda _: self.refresh())

    # ---- data -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the runs folder (new runs appear, damaged ones are listed with their problem)."""
        self.message.value = ""
        try:
            with warnings.catch_warnings(record=True):  # problems are shown in the table instead
                warnings.simplefilter("always")
                self.table = runs.table(self.root)
        except FileNotFoundError as e:
            self.table = pd.DataFrame()
            self.message.value = _ERROR.format(html.escape(str(e)))
        if self.table.empty:
            self.message.value = self.message.value or f"<i>no runs under {html.escape(str(self.root))} yet</i>"
            self.sort_by.options, self.run_a.options, self.run_b.options = [], [], []
            self.table_html.value = ""
            return
        wanted = self._sort_request or self.sort_by.value or self._default_sort()
        if wanted not in self.table:
            raise LabkitError(f"sort_by={wanted!r} is not a column of the runs table; columns: {list(self.table)}")
        self._sort_request = None
        self._set_sort_options(wanted, draw=False)
        names = list(sort_runs(self.table, self._default_sort(), ascending=False)["run"])
        a, b = self.run_a.value, self.run_b.value
        self.run_a.options = self.run_b.options = names
        self.run_a.value = a if a in names else names[0]
        self.run_b.value = b if b in names else names[min(1, len(names) - 1)]
        self._on_filter()
        self._draw_comparison()

    def _default_sort(self) -> str:
        try:
            return viz.score_column(self.table)
        except ValueError:
            return "run"

    def _columns(self, extra=()) -> list[str]:
        """The columns shown: run, the swept settings, the metrics (or every column but path)."""
        if self.all_columns.value:
            return [c for c in self.table.columns if c != "path"]
        return default_columns(self.table, extra=extra)

    def _set_sort_options(self, wanted: str | None = None, draw: bool = True) -> None:
        """Offer the shown columns to sort by (a handful, not every config field)."""
        wanted = wanted or self.sort_by.value
        with self.hold_sync():
            self.sort_by.options = self._columns(extra=[wanted])
            self.sort_by.value = wanted if wanted in self.sort_by.options else self._default_sort()
        if draw:
            self._draw_table()

    def selected(self) -> pd.DataFrame:
        """The runs the filter keeps, sorted by `.sort_by` (a bad filter keeps every run)."""
        df = sort_runs(self.table, self.sort_by.value, self.ascending.value)
        try:
            return filter_runs(df, self.filter.value, columns=self._columns(extra=[self.sort_by.value]))
        except LabkitError:
            return df

    def shown(self) -> pd.DataFrame:
        """The table as rendered: the selected runs with run + swept settings + metrics columns."""
        return self.selected()[self._columns(extra=[self.sort_by.value])]

    # ---- drawing --------------------------------------------------------------------------------
    def _on_filter(self) -> None:
        """Apply the filter: the count (or why the query cannot run), the table, the overview."""
        if self.table.empty:
            return
        try:
            kept = len(filter_runs(self.table, self.filter.value, columns=self._columns()))
            note = f"{kept} of {len(self.table)} run(s) match the filter" if self.filter.value.strip() else \
                f"{len(self.table)} run(s)"
        except LabkitError as e:
            note = _ERROR.format(html.escape(str(e))) + " — showing every run"
        bad = int((self.table["problems"] != "").sum()) if "problems" in self.table else 0
        self._draw_table()
        self._draw_overview()
        # last: once the count shows, the table and the overview show the filtered runs too
        self.message.value = note + (f", {bad} with problems (see the problems column)" if bad else "")

    def _draw_table(self) -> None:
        if not self.table.empty:
            self.table_html.value = html_table(self.shown().map(_hashable), nowrap=("run",))

    def _draw_comparison(self) -> None:
        a, b = self.run_a.value, self.run_b.value
        if a is None or b is None:
            return
        rows = self.table.set_index("run")
        histories, failed = {}, []
        for name in dict.fromkeys((a, b)):
            try:
                histories[name] = runs.history(rows.loc[name, "path"])
            except (FileNotFoundError, ValueError, pd.errors.ParserError) as e:
                failed.append(f"{name}: {e}")
        fig = viz.training_curves(histories, title=f"{a} vs {b}") if histories else go.Figure()
        with self.curves.batch_update():
            self.curves.data = ()
            self.curves.add_traces(fig.data)
            self.curves.layout = fig.layout
        diff = config_diff(rows.loc[a], rows.loc[b]).rename(columns={"A": a, "B": b})
        note = "".join(f'<div style="color:#a40000">⚠ {html.escape(f)}</div>' for f in failed)
        self.diff.value = note + ("<i>the two runs share every setting</i>" if diff.empty else
                                  "<b>settings that differ</b>" + html_table(diff.map(_hashable)))

    def _draw_overview(self) -> None:
        """Parallel coordinates of the selected runs: the swept settings, then the score."""
        table = self.selected()
        dims = swept_settings(self.table)[:OVERVIEW_AXES]
        try:
            fig = viz.runs_parallel(table, dims) if dims and len(table) else go.Figure(layout=dict(
                title="no run matches the filter" if dims else "the runs share every setting: nothing to compare yet"))
        except ValueError as e:  # no accuracy column (e.g. every run damaged)
            fig = go.Figure(layout=dict(title=str(e)))
        with self.overview.batch_update():
            self.overview.data = ()
            self.overview.add_traces(fig.data)
            self.overview.layout = fig.layout
