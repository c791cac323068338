"""The quick version of every lesson, as `labkit lessons --check --quick` runs it: every claim the
notebooks show must be supported, so the lab's story cannot silently invert again.

The runs go to the session's LABKIT_LESSONS_ROOT (tests/conftest.py), where notebook 03 finds
and reuses them when the notebook tests run after this one.
"""
import json
import os

import pytest

from labkit import lessons
from labkit.cli import main


@pytest.mark.slow
def test_every_quick_lesson_supports_every_claim(capsys):
    assert main(["lessons", "--check", "--quick", "--no-progress"]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["claims"] == summary["supported"] >= 16
    assert summary["root"] == os.environ["LABKIT_LESSONS_ROOT"]
    assert "NOT SUPPORTED" not in out
    for name in lessons.LESSONS:
        assert f" {name}: " in out


@pytest.mark.slow
def test_a_lesson_reuses_its_finished_runs():
    """Run again with the same settings, a lesson only measures: no training."""
    result = lessons.order_matters(quick=True, progress=False)  # trained by the test above
    assert result.seconds < 30 and result.supported
    assert set(result.table["cell"]) == {"gru", "none"} and len(result.table) == 6
    assert {"mean", "ci_low", "ci_high", "n"} <= set(result.summary.columns)
    assert "**the DCRN" in result._repr_markdown_()


def test_unknown_lessons_are_named(capsys):
    with pytest.raises(SystemExit):  # argparse's own choices check
        main(["lessons", "--only", "vibes"])
    with pytest.raises(KeyError, match="unknown lesson"):
        lessons.run(["vibes"])
