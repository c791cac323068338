"""`make bench`: speed and memory figures, each compared within one run.

Each area has a module here with `rows(quick: bool) -> list[dict]`; a row has keys
`section, name, value, unit` and optionally `target` (text such as ">= 0.6"), `ok` (bool or None)
and `note`. `run()` collects them into one DataFrame.
"""
from __future__ import annotations

import importlib
import time

import pandas as pd

from labkit.errors import LabkitError

SECTIONS = ("data", "models", "train", "explain", "widgets", "pretrain")
COLUMNS = ["section", "name", "value", "unit", "target", "ok", "note"]


def run(sections: tuple[str, ...] | None = None, quick: bool = False) -> pd.DataFrame:
    """Run the benchmark sections (all by default) and return their rows as a DataFrame."""
    unknown = sorted(set(sections or ()) - set(SECTIONS))
    if unknown:
        raise LabkitError(f"unknown benchmark section(s) {unknown}; choose from {', '.join(SECTIONS)}")
    tables = []
    for name in sections or SECTIONS:
        start = time.perf_counter()
        tables.append(table(importlib.import_module(f"labkit.bench.{name}").rows(quick=quick), name))
        print(f"[bench] {name}: {time.perf_counter() - start:.1f} s", flush=True)
    return pd.concat(tables, ignore_index=True)


def table(rows: list[dict], section: str) -> pd.DataFrame:
    """Benchmark rows (dicts with some of COLUMNS) of one section as a DataFrame with every column."""
    return pd.DataFrame([{**dict.fromkeys(COLUMNS), "section": section, **row} for row in rows], columns=COLUMNS)
