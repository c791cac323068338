"""`summarize`: a metric of many runs (e.g. one per seed) per group, with its spread."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from labkit.errors import LabkitError

SUMMARY_COLUMNS = ["mean", "std", "ci_low", "ci_high", "n"]


def mean_ci(values, confidence: float = 0.95) -> dict:
    """Mean, sample standard deviation and the Student-t confidence interval of the mean.

    values: numbers (NaN ignored). With one value std and the interval are NaN (no spread can
    be estimated from one run); with none, everything but n is NaN.
    """
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    n = len(v)
    mean = float(v.mean()) if n else np.nan
    std = float(v.std(ddof=1)) if n > 1 else np.nan
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1) * std / np.sqrt(n)) if n > 1 else np.nan
    return {"mean": mean, "std": std, "ci_low": mean - half, "ci_high": mean + half, "n": n}


def summarize(table: pd.DataFrame, by, metric: str = "best_val_accuracy",
              confidence: float = 0.95) -> pd.DataFrame:
    """One row per group of `by` (a column name or a list): mean, std, ci_low, ci_high (the
    `confidence` interval of the mean, Student's t) and n of `metric` over the group's runs.

    table: e.g. `runs.table(root)` or what `train.sweep` returns (it has a column per grid key).
    Groups keep the order in which they first appear.
    """
    by = [by] if isinstance(by, str) else list(by)
    for c in [*by, metric]:
        if c not in table:
            raise LabkitError(f"no column {c!r} in the runs table; columns: {list(table.columns)}")
    if not 0 < confidence < 1:
        raise LabkitError(f"confidence={confidence}; use a level in (0, 1) such as 0.95")
    keys = table[by].map(lambda v: tuple(v) if isinstance(v, list) else v)  # list cells are not hashable
    rows = []
    for key, group in table.groupby([keys[c] for c in by], sort=False, dropna=False):
        rows.append({**dict(zip(by, key)), **mean_ci(group[metric], confidence)})
    return pd.DataFrame(rows, columns=[*by, *SUMMARY_COLUMNS])
