"""The apps as a student uses them in JupyterLab (fast mode): what is set is what trains, the
ModelBuilder's views agree (and grey out when the settings are invalid), the RunsBoard's filter
narrows its rows, and an interrupt stops a training cell and the cells after it.

Screenshots of the three apps go to docs/img/ (the README shows them).
"""
from __future__ import annotations

import json
import pathlib

import nbformat
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[2] / "notebooks"

GREY = "0.35"  # ModelBuilder's opacity for views of a model that no longer applies
# tick labels of the diagram's shared x axis, left to right as drawn
DIAGRAM_TICKS = """(app) => {
    const plot = app.querySelector('.labkit-builder-diagram .js-plotly-plot');
    const ticks = [...plot.querySelectorAll('.xaxislayer-above .x2tick text, .xaxislayer-above .xtick text')];
    const shown = ticks.filter(t => t.textContent && t.getBoundingClientRect().width > 0);
    return shown.sort((a, b) => a.getBoundingClientRect().left - b.getBoundingClientRect().left)
        .map(t => t.textContent);
}"""
TABLE_LAYERS = """(app) => [...app.querySelectorAll('.labkit-builder-layer-table tbody tr td:first-child')]
    .map(td => td.textContent)"""
OPACITIES = """(app) => Object.fromEntries(['totals', 'layer-table', 'diagram'].map(
    v => [v, getComputedStyle(app.querySelector('.labkit-builder-' + v)).opacity]))"""


def _wait_for_text(locator, text: str, timeout_ms: int = 120_000) -> None:
    locator.page.wait_for_function("([el, text]) => el.textContent.includes(text)",
                                   arg=[locator.element_handle(), text], timeout=timeout_ms, polling=250)


def _code_of_03(until: str | None = None) -> list[str]:
    """The code cells of notebook 03, up to (not including) the first one containing `until`."""
    code = [c.source for c in nbformat.read(NOTEBOOKS / "03_train.ipynb", as_version=4).cells if c.cell_type == "code"]
    return code[:next(i for i, c in enumerate(code) if until in c)] if until else code


def test_the_dashboard_trains_with_the_learning_rate_it_shows(notebook, scratch_notebook):
    # 03's cells up to its lessons (these run in test_lab.py's run of 03): the dashboard trained,
    # stopped and continued once by the notebook's own cells
    nb = notebook(scratch_notebook("_dashboard_03_train.ipynb", _code_of_03(until="lessons.order_matters(")))
    nb.run_all()
    assert not nb.errors(), nb.errors()
    made = nb.index_of("widgets.TrainingDashboard(")
    app = nb.page.locator(".labkit-training-dashboard").first
    app.scroll_into_view_if_needed()  # drawn on screen: the learning-rate slider snaps to its grid
    nb.page.wait_for_timeout(1500)
    shown = app.locator(".widget-text:has(.widget-label:text-is('learning rate')) input").input_value()
    kernel = nb.run_below(made, "print(repr(dashboard.settings()['lr']), repr(dashboard.lr_slider.value))").split()
    assert float(kernel[0]) == float(shown) == 0.003, f"shown {shown}, the kernel would train with {kernel}"
    status = app.locator(".labkit-training-status")
    trained = nb.run_below(made + 1, "print(sorted(set(dashboard.history.lr)))")  # every epoch so far
    assert trained.strip() == f"[{float(shown)}]", f"shown {shown}, trained with {trained}"
    # Stop mid-run, then Start: the same run goes on (fit's history holds every epoch shown)
    epochs = app.locator(".widget-text:has(.widget-label:text-is('epochs')) input")
    epochs.fill("500")
    epochs.press("Enter")
    app.locator("button:has-text('Start')").click()
    _wait_for_text(status, "training: epoch")
    nb.page.wait_for_timeout(1500)  # into the run
    app.locator("button:has-text('Stop')").click()
    _wait_for_text(status, "stopped")
    epochs.fill("1")
    epochs.press("Enter")
    app.locator("button:has-text('Start')").click()
    _wait_for_text(status, "done")
    ran = json.loads(nb.run_below(made + 2, "import json; print(json.dumps(dict(shown=dashboard.history.epoch."
                                            "tolist(), fit=len(dashboard.result.history), lr=sorted(set("
                                            "dashboard.history.lr)))))"))
    assert ran["shown"][0] == 1 and len(ran["shown"]) == ran["fit"] >= 3, f"Start did not continue the run: {ran}"
    assert ran["lr"] == [float(shown)], ran
    assert not nb.errors(), nb.errors()
    nb.screenshot(app, "training_dashboard.png")


def test_the_model_builder_views_agree_and_grey_out_when_invalid(ran):
    nb = ran("02_model.ipynb")
    app = nb.page.locator(".labkit-model-builder").first
    nb.press_slider(app, "conv blocks", "ArrowRight")  # a second block: new layers mid-model
    app.locator(".lm-TabBar-tab:has-text('diagram')").click()
    nb.page.wait_for_timeout(1500)
    table = app.evaluate(TABLE_LAYERS)
    assert "blocks.1.0" in table and app.evaluate(DIAGRAM_TICKS) == table, "the diagram and the table disagree"
    assert app.evaluate(OPACITIES) == {"totals": "1", "layer-table": "1", "diagram": "1"}
    nb.press_slider(app, "padding", "ArrowRight", times=3)  # padding 3 with kernel 3: no valid model
    message = app.locator(".labkit-builder-message")
    _wait_for_text(message, "padding", 20_000)
    assert "last valid model" in message.inner_text()
    nb.page.wait_for_timeout(500)
    assert app.evaluate(OPACITIES) == {"totals": GREY, "layer-table": GREY, "diagram": GREY}
    nb.press_slider(app, "padding", "ArrowLeft", times=2)  # padding 1: valid again
    nb.page.wait_for_timeout(1500)
    assert app.evaluate(OPACITIES) == {"totals": "1", "layer-table": "1", "diagram": "1"}
    assert not message.is_visible()
    assert app.evaluate(DIAGRAM_TICKS) == app.evaluate(TABLE_LAYERS)
    app.locator(".lm-TabBar-tab:has-text('layers')").click()
    nb.screenshot(app, "model_builder.png")


def test_the_runs_board_filter_narrows_the_rows(ran):
    nb = ran("05_experiments.ipynb")
    app = nb.page.locator(".labkit-runs-board").first
    rows = app.locator(".labkit-runs-table tbody tr")
    message = app.locator(".labkit-runs-message")
    every = rows.count()
    assert every >= 2, f"expected the sweep's runs, found {every}"
    box = app.locator(".widget-text:has(.widget-label:text-is('filter')) input")
    box.fill("conv_channels == '(8, 16)'")
    box.press("Enter")
    _wait_for_text(message, f"of {every} run(s) match", 20_000)
    assert 0 < rows.count() < every and "(8, 16)" in rows.first.inner_text()
    box.fill("hiden_size > 8")  # a typo: the board says why, no traceback
    box.press("Enter")
    _wait_for_text(message, "not a query", 20_000)
    assert "hiden_size" in message.inner_text() and rows.count() == every
    box.fill("")
    box.press("Enter")
    _wait_for_text(message, f"{every} run(s)", 20_000)
    assert not nb.errors(), nb.errors()
    nb.screenshot(app, "runs_board.png")


def test_an_interrupt_stops_the_training_cell_of_03_and_the_cells_after_it(notebook, scratch_notebook):
    # a copy of 03 (the shared run of 03 keeps its kernel) whose lessons train into a new folder,
    # so that the first lesson cell trains rather than reuses runs
    code = _code_of_03()
    code[0] += "\nROOT = tempfile.mkdtemp(prefix='labkit-interrupt-')"
    nb = notebook(scratch_notebook("_interrupt_03_train.ipynb", code))
    lesson = nb.index_of("lessons.order_matters(")
    nb.menu("Run", "Run All Cells")  # the parameters, the dashboard, then the lessons
    nb.page.wait_for_function(  # the lesson cell is running and its one progress bar (train.one_bar) is counting runs
        "([i]) => { const c = document.querySelectorAll('.jp-Notebook .jp-CodeCell')[i];"
        " return c.querySelector('.jp-InputPrompt').textContent.includes('*') && /order.matters/.test(c.querySelector('.jp-OutputArea').textContent); }",
        arg=[lesson], timeout=180_000, polling=200)
    nb.page.wait_for_timeout(1500)  # well into a run
    assert nb.prompts()[lesson] in ("[*]:", "[*]"), f"the lesson cell finished before the interrupt: {nb.prompts()}"
    nb.menu("Kernel", "Interrupt Kernel")
    nb.wait_idle(60_000)
    nb.page.wait_for_timeout(3000)  # had Run All gone on, the next cell would be running by now
    output = nb.cell(lesson).locator(".jp-OutputArea").inner_text()
    assert "TrainingInterrupted" in output and "interrupted during epoch" in output, output[-1500:]
    after = nb.prompts()[lesson + 1:]
    assert after and all(p in ("[ ]:", "[ ]") for p in after), f"cells after the interrupted one ran: {after}"
    assert "Idle" in nb.page.inner_text(".jp-StatusBar-TextItem:has-text('|')")
