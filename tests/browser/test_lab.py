"""Every notebook of notebooks/ runs in JupyterLab as a student runs it (Run > Run All Cells,
fast mode): no cell raises, every widget renders, and no figure is wider than its output area
or has its title cut. The apps' own checks (test_apps.py, test_views.py) look at the same runs.

A screenshot of notebook 01's clips goes to docs/img/ (the README shows it).
"""
from __future__ import annotations

import pathlib

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOKS = sorted(p.name for p in (pathlib.Path(__file__).resolve().parents[2] / "notebooks")
                   .glob("[0-9][0-9]_*.ipynb"))


def test_there_are_notebooks_to_run():
    assert len(NOTEBOOKS) >= 5, NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_notebook_runs_in_the_browser_and_every_figure_fits(ran, name):
    nb = ran(name)
    assert not nb.errors(), nb.errors()
    assert all(p not in ("[ ]:", "[*]:", "[ ]", "[*]") for p in nb.prompts()), nb.prompts()
    boxes, bad = nb.figures()
    assert boxes, f"{name}: no plotly figure rendered"
    assert not bad, f"{name}: figures wider than their output area or with a cut title: {bad}"
    if name == "01_data.ipynb":
        strip = nb.page.locator(".jp-Notebook .js-plotly-plot").first  # one clip per class, frames side by side
        strip.locator("image").first.wait_for(state="attached", timeout=30_000)  # go.Image draws an svg <image>
        nb.screenshot(strip, "data_clips.png")
