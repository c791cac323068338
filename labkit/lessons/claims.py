"""Claims: what a lesson says, with the measurement behind it and whether that measurement supports it.

A claim compares figures measured over several seeds (a mean with its Student-t interval) with a
threshold or with another group's figures; it is *supported* only when the interval clears the
threshold, not when a single mean happens to. Text for people comes from the claim itself, so a
notebook never states more than was measured.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from labkit.runs.stats import mean_ci


@dataclass
class Claim:
    """One statement of a lesson and its evidence.

    lesson: the lesson's name; text: the statement, as the notebook would make it; supported:
    whether the measurement backs it; measured: the figure compared (e.g. a difference of mean
    accuracies); ci: its 95% interval (low, high); threshold and comparison: the whole interval
    must lie above (">") or below ("<") the threshold; n: seeds (runs) per group; detail: the
    figures behind it, in words (means per group); seconds: how long the lesson took.
    """

    lesson: str
    text: str
    supported: bool
    measured: float
    ci: tuple[float, float]
    threshold: float
    n: int
    detail: str = ""
    comparison: str = ">"
    seconds: float | None = field(default=None)

    def line(self) -> str:
        """One line for a terminal: verdict, lesson, statement, figures."""
        verdict = "SUPPORTED    " if self.supported else "NOT SUPPORTED"
        return (f"{verdict} {self.lesson}: {self.text} — measured {self.measured:.3g} "
                f"(95% CI {self.ci[0]:.3g}..{self.ci[1]:.3g}, needs {self.comparison} {self.threshold:.3g}; n={self.n}"
                + (f"; {self.detail}" if self.detail else "") + ")")

    def sentence(self) -> str:
        """The statement for a notebook: asserted when supported, else marked as not supported on this run."""
        figures = f"{self.detail} (95% CI of the measured {self.measured:.3g}: {self.ci[0]:.3g}..{self.ci[1]:.3g}, n={self.n})"
        if self.supported:
            return f"**{self.text}** — {figures}."
        return f"*Not supported on this run:* {self.text} — {figures}."

    def to_dict(self) -> dict:
        return {"lesson": self.lesson, "claim": self.text, "supported": self.supported, "measured": self.measured,
                "ci_low": self.ci[0], "ci_high": self.ci[1], "comparison": self.comparison,
                "threshold": self.threshold, "n": self.n,
                "detail": self.detail}


def above(lesson: str, text: str, values, threshold: float, what: str = "mean") -> Claim:
    """Supported when the lower end of the 95% interval of the mean of `values` exceeds `threshold`."""
    s = mean_ci(values)
    ok = bool(np.isfinite(s["ci_low"]) and s["ci_low"] > threshold)
    return Claim(lesson, text, ok, s["mean"], (s["ci_low"], s["ci_high"]), threshold, s["n"],
                 f"{what} {s['mean']:.3f} ± {s['std']:.3f} (sd)")


def below(lesson: str, text: str, values, threshold: float, what: str = "mean") -> Claim:
    """Supported when the upper end of the 95% interval of the mean of `values` is under `threshold`."""
    s = mean_ci(values)
    ok = bool(np.isfinite(s["ci_high"]) and s["ci_high"] < threshold)
    return Claim(lesson, text, ok, s["mean"], (s["ci_low"], s["ci_high"]), threshold, s["n"],
                 f"{what} {s['mean']:.3f} ± {s['std']:.3f} (sd)", comparison="<")


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """mean(a) - mean(b) and its 95% interval (Welch's: two independent groups of runs)."""
    diff = float(a.mean() - b.mean())
    va, vb = (a.var(ddof=1) / len(a) if len(a) > 1 else np.nan), (b.var(ddof=1) / len(b) if len(b) > 1 else np.nan)
    se = float(np.sqrt(va + vb))
    if se > 0:
        dof = (va + vb) ** 2 / ((va ** 2 / (len(a) - 1)) + (vb ** 2 / (len(b) - 1)))
        half = float(stats.t.ppf(0.975, dof) * se)
    else:  # identical runs within each group: the difference is exact
        half = 0.0 if np.isfinite(se) else np.nan
    return diff, diff - half, diff + half


def close(lesson: str, text: str, a, b, margin: float, names=("a", "b")) -> Claim:
    """Supported when the 95% interval of mean(a) - mean(b) lies within (-margin, margin): the
    two groups are alike to within `margin` (stored as |difference| against the margin)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    diff, low, high = _welch(a, b)
    worst = max(abs(low), abs(high))
    ok = bool(np.isfinite(worst) and worst < margin)
    return Claim(lesson, text, ok, diff, (low, high), margin, min(len(a), len(b)),
                 f"{names[0]} {a.mean():.3f} vs {names[1]} {b.mean():.3f}", comparison="within ±")  # the interval of the difference


def gap(lesson: str, text: str, higher, lower, margin: float, names=("a", "b")) -> Claim:
    """Supported when mean(higher) - mean(lower) exceeds `margin` with 95% confidence (Welch's
    interval for a difference of means; runs of the two groups are independent)."""
    a, b = np.asarray(higher, float), np.asarray(lower, float)
    diff, low, high = _welch(a, b)
    ok = bool(np.isfinite(low) and low > margin)
    return Claim(lesson, text, ok, diff, (low, high), margin, min(len(a), len(b)),
                 f"{names[0]} {a.mean():.3f} vs {names[1]} {b.mean():.3f}")
