"""`RunsBoard`: every run under a folder as a sortable table, an overview of hyper-parameters
against accuracy, and two runs compared (training curves overlaid, config differences)."""
from __future__ import annotations

import html
import warnings

import ipywidgets as W
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from labkit.errors import LabkitError
from .. import runs, viz
from .html_table import html_table

CONFIG_PREFIXES = ("model.", "train.", "data.")
METRIC_COLUMNS = ("best_val_accuracy", "best_epoch", "epochs", "final_val_accuracy", "final_loss",
                  "train_seconds", "stopped", "problems")


def _hashable(v):
    return tuple(v) if isinstance(v, list) else v


def varying_columns(table: pd.DataFrame) -> list[str]:
    """Config columns (model.*, train.*, data.*) whose value differs between runs (missing
    values, e.g. of a damaged run, do not count as a difference)."""
    cols = []
    for c in table.columns:
        if c.startswith(CONFIG_PREFIXES) and table[c].dropna().map(lambda v: str(_hashable(v))).nunique() > 1:
            cols.append(c)
    return cols


def config_diff(a: pd.Series, b: pd.Series) -> pd.DataFrame:
    """The config settings (model.*, train.*, data.*) where two runs' table rows differ:
    columns setting, A, B."""
    rows = [(c, a[c], b[c]) for c in a.index
            if c.startswith(CONFIG_PREFIXES) and str(_hashable(a[c])) != str(_hashable(b.get(c)))]
    return pd.DataFrame(rows, columns=["setting", "A", "B"])


class RunsBoard(W.VBox):
    """The runs under `root` (folders written by `train.fit(..., run_dir=...)`).

    RunsBoard(root, sort_by=None)
    Controls: `.sort_by` (Dropdown of columns; default: the accuracy column), `.ascending`
    (ToggleButton), `.all_columns` (Checkbox: every column instead of run + what varies + metrics),
    `.run_a` / `.run_b` (Dropdowns of run names), `.refresh_button`. Output: `.table_html`,
    `.curves` (FigureWidget: both runs' training curves), `.diff` (HTML), `.overview`
    (FigureWidget: parallel coordinates), `.message`. `.table` is the `runs.table(root)` DataFrame
    and `.shown()` the sorted, column-filtered view rendered.
    """

    def __init__(self, root, sort_by: str | None = None):
        self.root = root
        self.table = pd.DataFrame()
        self.sort_by = W.Dropdown(description="sort by", style={"description_width": "60px"},
                                  layout=W.Layout(width="300px"))
        self.ascending = W.ToggleButton(value=False, description="ascending", icon="sort-amount-asc",
                                        tooltip="sort ascending instead of descending")
        self.all_columns = W.Checkbox(value=False, description="all columns", indent=False)
        self.refresh_button = W.Button(description="Refresh", icon="refresh")
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
        super().__init__([W.HBox([self.sort_by, self.ascending, self.all_columns, self.refresh_button]),
                          self.message, tabs])
        self.add_class("labkit-runs-board")
        self._sort_request = sort_by
        self.refresh()
        for w in (self.sort_by, self.ascending, self.all_columns):
            w.observe(lambda _: self._draw_table(), names="value")
        for w in (self.run_a, self.run_b):
            w.observe(lambda _: self._draw_comparison(), names="value")
        self.refresh_button.on_click(lambda _: self.refresh())

    # ---- data -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the runs folder (new runs appear, damaged ones are listed with their problem)."""
        try:
            with warnings.catch_warnings(record=True):  # problems are shown in the table instead
                warnings.simplefilter("always")
                self.table = runs.table(self.root)
        except FileNotFoundError as e:
            self.table = pd.DataFrame()
            self.message.value = f'<span style="color:#a40000">⚠ {html.escape(str(e))}</span>'
        if self.table.empty:
            self.message.value = self.message.value or f"<i>no runs under {html.escape(str(self.root))} yet</i>"
            self.sort_by.options, self.run_a.options, self.run_b.options = [], [], []
            self.table_html.value = ""
            return
        bad = int((self.table["problems"] != "").sum()) if "problems" in self.table else 0
        self.message.value = f"{len(self.table)} run(s)" + (f", {bad} with problems (see the problems column)"
                                                             if bad else "")
        cols = list(self.table.columns)
        try:
            default = viz.score_column(self.table)
        except ValueError:
            default = "run"
        wanted = self._sort_request or (self.sort_by.value if self.sort_by.value in cols else default)
        if wanted not in cols:
            raise LabkitError(f"sort_by={wanted!r} is not a column of the runs table; columns: {cols}")
        self._sort_request = None
        with self.hold_sync():
            self.sort_by.options = cols
            self.sort_by.value = wanted
        names = list(self._sorted(default, ascending=False)["run"])
        a, b = self.run_a.value, self.run_b.value
        self.run_a.options = self.run_b.options = names
        self.run_a.value = a if a in names else names[0]
        self.run_b.value = b if b in names else names[min(1, len(names) - 1)]
        self._draw_table()
        self._draw_comparison()
        self._draw_overview()

    def _sorted(self, column: str, ascending: bool) -> pd.DataFrame:
        key = self.table[column]
        order = key if pd.api.types.is_numeric_dtype(key) else key.map(lambda v: str(_hashable(v)))
        return self.table.loc[order.sort_values(ascending=ascending, na_position="last", kind="stable").index]

    def shown(self) -> pd.DataFrame:
        """The table as rendered: sorted by `.sort_by`, with run + varying config + metrics columns."""
        df = self._sorted(self.sort_by.value, self.ascending.value)
        if self.all_columns.value:
            return df.drop(columns=["path"], errors="ignore")
        cols = ["run", *varying_columns(df), *[c for c in METRIC_COLUMNS if c in df]]
        if self.sort_by.value not in cols:
            cols.insert(1, self.sort_by.value)
        return df[cols]

    # ---- drawing --------------------------------------------------------------------------------
    def _draw_table(self) -> None:
        if not self.table.empty:
            self.table_html.value = html_table(self.shown().map(_hashable))

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
        dims = [c for c in varying_columns(self.table)
                if self.table[c].map(lambda v: isinstance(v, (int, float, str, bool, np.number))).all()][:8]
        try:
            fig = viz.runs_parallel(self.table, dims) if dims else go.Figure(layout=dict(
                title="the runs share every setting: nothing to compare yet"))
        except ValueError as e:  # no accuracy column (e.g. every run damaged)
            fig = go.Figure(layout=dict(title=str(e)))
        with self.overview.batch_update():
            self.overview.data = ()
            self.overview.add_traces(fig.data)
            self.overview.layout = fig.layout
