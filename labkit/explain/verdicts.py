"""Verdicts with their confidence: a faithfulness check passes only when the bootstrap interval of
its per-clip difference (method minus reference) lies wholly on the good side; wholly on the bad
side it fails; otherwise it is inconclusive (on 4 clips, 0.547 against 0.555 is no verdict)."""
from __future__ import annotations

import numpy as np

MIN_CLIPS = 3  # fewer clips than this give no verdict at all
VERDICTS = ("passed", "failed", "inconclusive")


def bootstrap_ci(values, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of `values` (resampling clips), seeded."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return np.nan, np.nan
    means = v[np.random.default_rng(seed).integers(0, len(v), (n_boot, len(v)))].mean(1)  # (n_boot,)
    tail = (1 - level) / 2 * 100
    return float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))


def verdict(differences, good: int = 1, seed: int = 0) -> dict:
    """{difference, ci_low, ci_high, verdict, passed} for per-clip differences (method minus
    reference); good = +1 when a larger value is better, -1 when a smaller one is. passed is
    True / False for a conclusive verdict and None when inconclusive."""
    d = np.asarray(differences, dtype=float)
    low, high = bootstrap_ci(d, seed=seed)
    if np.isfinite(d).sum() < MIN_CLIPS or not np.isfinite(low):
        outcome = "inconclusive"
    elif (low > 0 if good > 0 else high < 0):
        outcome = "passed"
    elif (high < 0 if good > 0 else low > 0):
        outcome = "failed"
    else:
        outcome = "inconclusive"
    return {"difference": float(np.nanmean(d)) if np.isfinite(d).any() else np.nan, "ci_low": low, "ci_high": high,
            "verdict": outcome, "passed": {"passed": True, "failed": False}.get(outcome)}
