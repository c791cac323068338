"""The runs table as the RunsBoard shows it: which settings vary between runs (what was swept),
a curated default set of columns, natural sorting and a filter (a pandas query or plain text).

Plain functions of a `runs.table(root)` DataFrame (one row per run), tested on their own.
"""
from __future__ import annotations

import re

import pandas as pd

from labkit.errors import LabkitError
from ..viz.runs import MISSING, natural_key

CONFIG_PREFIXES = ("model.", "train.", "data.")
SETTING_PREFIXES = ("model.", "train.")  # settings a sweep varies; data.* columns vary with the data
DATA_COLUMNS = ("data.train.name", "data.train.clips")  # what the default view says about differing data
METRIC_COLUMNS = ("best_val_accuracy", "best_epoch", "epochs", "train_seconds", "stopped", "problems")  # final_*: all columns
# a filter with one of these is a pandas query; anything else is text to look for
_QUERY = re.compile(r"==|!=|<=|>=|<|>|`|\b(and|or|not|in)\b|\.str\.")


def _hashable(v):
    return tuple(v) if isinstance(v, list) else v


def _empty(s: pd.Series) -> bool:
    return s.map(lambda v: v is None or v == "" or (isinstance(v, float) and pd.isna(v))).all()


def varying_columns(table: pd.DataFrame) -> list[str]:
    """Config columns (model.*, train.*, data.*) whose value differs between runs (missing
    values, e.g. of a damaged run, do not count as a difference)."""
    cols = []
    for c in table.columns:
        if c.startswith(CONFIG_PREFIXES) and table[c].dropna().map(lambda v: str(_hashable(v))).nunique() > 1:
            cols.append(c)
    return cols


def swept_settings(table: pd.DataFrame) -> list[str]:
    """The model and training settings that differ between runs (what a sweep varied), then
    the data's name and size where those differ."""
    varying = varying_columns(table)
    return [c for c in varying if c.startswith(SETTING_PREFIXES)] + [c for c in DATA_COLUMNS if c in varying]


def default_columns(table: pd.DataFrame, extra=()) -> list[str]:
    """The columns the board shows by default: run, the swept settings, the metrics that hold a
    value for some run (an all-empty `stopped` or `problems` is left out), then `extra` columns."""
    metrics = [c for c in METRIC_COLUMNS if c in table and not _empty(table[c])]
    cols = ["run", *swept_settings(table), *metrics]
    return cols + [c for c in extra if c in table and c not in cols]


def config_diff(a: pd.Series, b: pd.Series) -> pd.DataFrame:
    """The config settings (model.*, train.*, data.*) where two runs' table rows differ:
    columns setting, A, B."""
    rows = [(c, a[c], b[c]) for c in a.index
            if c.startswith(CONFIG_PREFIXES) and str(_hashable(a[c])) != str(_hashable(b.get(c)))]
    return pd.DataFrame(rows, columns=["setting", "A", "B"])


def sort_runs(table: pd.DataFrame, column: str, ascending: bool = True) -> pd.DataFrame:
    """Rows sorted by `column` in natural order (numbers by value, (8, 16) before (16, 32),
    "run2" before "run10"), stable, with missing values last in either direction."""
    keys = [natural_key(v) for v in table[column]]
    present = [i for i, k in enumerate(keys) if k[0] != MISSING]
    present.sort(key=lambda i: keys[i], reverse=not ascending)  # stable either way
    return table.iloc[present + [i for i, k in enumerate(keys) if k[0] == MISSING]]


def _short_names(table: pd.DataFrame) -> dict[str, str]:
    """{short name: column} for config columns whose last part is unique ("hidden_size" for
    "model.hidden_size"), so a query can say `hidden_size >= 32`."""
    last = pd.Series([c.rsplit(".", 1)[-1] for c in table.columns if c.startswith(CONFIG_PREFIXES)])
    unique = set(last[~last.duplicated(keep=False)])
    return {c.rsplit(".", 1)[-1]: c for c in table.columns
            if c.startswith(CONFIG_PREFIXES) and c.rsplit(".", 1)[-1] in unique and c.rsplit(".", 1)[-1] not in table}


def _quote_dotted(text: str, columns) -> str:
    """Backtick the dotted column names a query uses bare (model.cell -> `model.cell`), which
    pandas would otherwise read as an attribute of a name `model`."""
    for c in sorted((c for c in columns if "." in c), key=len, reverse=True):
        text = re.sub(rf"(?<![\w.`]){re.escape(c)}(?![\w`])", f"`{c}`", text)
    return text


def filter_runs(table: pd.DataFrame, text: str, columns=None) -> pd.DataFrame:
    """The rows of `table` that `text` selects.

    A pandas query (it has a comparison, `and`/`or`/`not`/`in` or backticks), with the settings'
    short names or full ones: `hidden_size >= 32 and cell == 'gru'`, `best_val_accuracy > 0.9`,
    `train.lr < 0.01`; or plain text, matched case-insensitively against the `columns`
    shown (default: every column): "gru", "8-16". Empty text keeps every row. A query that cannot
    run raises a LabkitError saying why, with an example.
    """
    text = (text or "").strip()
    if not text:
        return table
    if not _QUERY.search(text):
        cells = table[list(columns) if columns is not None else list(table.columns)]
        hay = cells.map(lambda v: str(_hashable(v)).lower()).agg(" ".join, axis=1)
        return table[hay.str.contains(text.lower(), regex=False)]
    view = table.map(lambda v: str(v) if isinstance(v, (tuple, list)) else v)  # (8, 16) as its text "(8, 16)"
    view = view.assign(**{short: view[col] for short, col in _short_names(table).items()})
    try:
        mask = view.eval(_quote_dotted(text, table.columns), engine="python")
    except Exception as e:  # pandas raises SyntaxError, NameError, TypeError, ... for a user's query
        raise LabkitError(f"filter {text!r} is not a query this table can answer ({type(e).__name__}: {e}); "
                          f"write e.g. hidden_size >= 32 and cell == 'gru' (short or full names such as model.hidden_size), "
                          f"or plain text to match") from None
    if not (isinstance(mask, pd.Series) and pd.api.types.is_bool_dtype(mask)):
        raise LabkitError(f"filter {text!r} gives values, not a yes/no per run; compare it, e.g. {text} > 0")
    return table[mask.to_numpy()]
