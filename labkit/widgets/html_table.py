"""A DataFrame as a compact HTML table for an `ipywidgets.HTML` (the widgets' one table look)."""
from __future__ import annotations

import html
import numbers

import pandas as pd

_TABLE = 'style="border-collapse:collapse;font-size:12px;font-family:var(--jp-code-font-family, monospace)"'
_CELL = "padding:2px 10px;border-bottom:1px solid #e5e5e5;text-align:{align}"
_NOWRAP = ";white-space:nowrap"
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


def _rows_html(df: pd.DataFrame, highlight=None, nowrap=()) -> str:
    """One <table> of `df`'s rows (index dropped); the row at position `highlight` is bold."""
    cols = list(df.columns)
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in cols]
    styles = [_CELL.format(align="right" if n else "left") + (_NOWRAP if c in nowrap else "")
              for c, n in zip(cols, numeric)]
    head = "".join(f'<th style="{s}">{html.escape(str(c))}</th>' for c, s in zip(cols, styles))
    body = []
    for i, row in enumerate(df.itertuples(index=False)):
        style = f' style="{_HIGHLIGHT}"' if i == highlight else ""
        cells = "".join(f'<td style="{s}">{html.escape(_fmt(v))}</td>' for v, s in zip(row, styles))
        body.append(f"<tr{style}>{cells}</tr>")
    return f"<table {_TABLE}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def html_table(df: pd.DataFrame, highlight=None, max_rows: int = 500, show_last: int | None = None,
               folded: str = "earlier rows", nowrap=()) -> str:
    """Render `df` (index dropped); the row at position `highlight` is bold. Numbers right-aligned,
    floats to 4 significant digits, NaN as "–", text escaped; columns named in `nowrap` never wrap.

    show_last: show only the last this many rows; the rows before them are folded into a
    <details> element ("12 earlier rows", with `folded` as the wording) that opens on a click.
    max_rows: rows beyond it are left out, with a note saying how many.
    """
    more = f"<div><i>{len(df) - max_rows} more rows</i></div>" if len(df) > max_rows else ""
    df = df.head(max_rows)
    split = len(df) - show_last if show_last is not None and len(df) > show_last else 0
    recent = _rows_html(df.iloc[split:], None if highlight is None else highlight - split, nowrap)
    if not split:
        return recent + more
    earlier = _rows_html(df.iloc[:split], highlight, nowrap)
    return (f'<details><summary style="cursor:pointer;font-size:12px;color:#555">{split} {html.escape(folded)} '
            f'(click to show)</summary>{earlier}</details>{recent}{more}')
