"""A DataFrame as a compact HTML table for an `ipywidgets.HTML` (the widgets' one table look)."""
from __future__ import annotations

import html
import numbers

import pandas as pd

_TABLE = 'style="border-collapse:collapse;font-size:12px;font-family:var(--jp-code-font-family, monospace)"'
_CELL = "padding:2px 10px;border-bottom:1px solid #e5e5e5;text-align:{align}"
_HIGHLIGHT = "font-weight:bold;background:#eef6ee"


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "–"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, numbers.Integral):
        return f"{v:,}"
    if isinstance(v, numbers.Real):
        return f"{v:.4g}"
    return str(v)


def html_table(df: pd.DataFrame, highlight=None, max_rows: int = 500) -> str:
    """Render `df` (index dropped); the row at position `highlight` is bold. Numbers right-aligned,
    floats to 4 significant digits, NaN as "–", text escaped."""
    cols = list(df.columns)
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in cols]
    head = "".join(f'<th style="{_CELL.format(align="right" if n else "left")}">{html.escape(str(c))}</th>'
                   for c, n in zip(cols, numeric))
    body = []
    for i, row in enumerate(df.head(max_rows).itertuples(index=False)):
        style = f' style="{_HIGHLIGHT}"' if i == highlight else ""
        cells = "".join(f'<td style="{_CELL.format(align="right" if n else "left")}">{html.escape(_fmt(v))}</td>'
                        for v, n in zip(row, numeric))
        body.append(f"<tr{style}>{cells}</tr>")
    more = f"<div><i>{len(df) - max_rows} more rows</i></div>" if len(df) > max_rows else ""
    return f"<table {_TABLE}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"
