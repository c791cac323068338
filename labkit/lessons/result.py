"""What a lesson returns, where lessons keep their runs, and the measurements they share."""
from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from labkit import runs, train

from .claims import Claim


@dataclass
class LessonResult:
    """One lesson's measurement.

    name / title: the lesson; settings: what was run (data, model, training, seeds, quick or
    full); table: one row per run (its grid settings, `path`, and the measured columns);
    summary: the measured figure per group (`runs.summarize`: mean, std, 95% CI, n); claims:
    what the lesson states and whether this measurement supports it; extra: further tables a
    lesson's plots need (gradient flows, per-batch logs); seconds: wall time of the lesson.
    """

    name: str
    title: str
    settings: dict
    table: pd.DataFrame
    summary: pd.DataFrame
    claims: list[Claim]
    extra: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def supported(self) -> bool:
        """Every claim is supported by this run."""
        return all(c.supported for c in self.claims)

    def claims_table(self) -> pd.DataFrame:
        return pd.DataFrame([c.to_dict() for c in self.claims])

    def markdown(self) -> str:
        """The lesson's findings as Markdown bullets: supported claims asserted, the others
        marked "not supported on this run" (what a notebook displays instead of fixed prose)."""
        return "\n".join(f"- {c.sentence()}" for c in self.claims)

    def _repr_markdown_(self) -> str:
        n = sorted({c.n for c in self.claims}) if self.claims else []
        head = f"**{self.title}** ({len(self.table)} runs, {self.seconds:.0f} s; seeds per group: {n})"
        return head + "\n\n" + self.markdown()

    def __repr__(self) -> str:
        return f"LessonResult({self.name!r}: {len(self.claims)} claims, " + \
            f"{sum(c.supported for c in self.claims)} supported, {len(self.table)} runs)"

    def html(self) -> str:
        return html.escape(self.markdown())


def lessons_root(root=None) -> Path:
    """Where lessons keep their runs: `root`, else $LABKIT_LESSONS_ROOT, else runs/lessons.

    Runs are reused: a lesson run again with the same settings finds its finished runs there
    (train.sweep skips them) and only measures.
    """
    return Path(root if root is not None else os.environ.get("LABKIT_LESSONS_ROOT", "runs/lessons"))


def test_accuracy(table: pd.DataFrame, test_ds) -> list[float]:
    """Top-1 of each run's best weights (`table.path`) on `test_ds`: clips no run trained or chose its
    best epoch on, so the figures are not flattered by picking the best of many validations."""
    return [train.evaluate(runs.load(path), test_ds, device="cpu").top1 for path in table["path"]]
