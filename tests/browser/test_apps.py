"""The apps as a student uses them in JupyterLab (fast mode): what is set is what trains, the
ModelBuilder's views agree (and grey out when the settings are invalid), the RunsBoard's filter
narrows its rows, and an interrupt stops a training cell and the cells after it.

Screenshots of the three apps go to docs/img/ (the README shows them).
"""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

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


def test_the_dashboard_trains_with_the_learning_rate_it_shows(notebook):
    nb = notebook("03_train.ipynb")
    made = nb.index_of("widgets.TrainingDashboard(")
    nb.select(made + 1)
    nb.menu("Run", "Run All Above Selected Cell")  # the data and the dashboard, not the lessons
    nb.wait_ran(range(made + 1))
    app = nb.page.locator(".labkit-training-dashboard").first
    app.scroll_into_view_if_needed()  # drawn on screen: the learning-rate slider snaps to its grid
    nb.page.wait_for_timeout(1500)
    shown = app.locator(".widget-text:has(.widget-label:text-is('learning rate')) input").input_value()
    kernel = nb.run_below(made, "print(repr(dashboard.settings()['lr']), repr(dashboard.lr_slider.value))").split()
    assert float(kernel[0]) == float(shown) == 0.003, f"shown {shown}, the kernel would train with {kernel}"
    status = app.locator(".labkit-training-status")
    app.locator("button:has-text('Start')").click()
    _wait_for_text(status, "done")
    trained = nb.run_below(made + 1, "print(sorted(set(dashboard.history.lr)))")
    assert trained.strip() == f"[{float(shown)}]", f"shown {shown}, trained with {trained}"
    # Stop mid-run, then Start: the same run goes on (a partial epoch marked as such)
    app.locator(".widget-text:has(.widget-label:text-is('epochs')) input").fill("3")
    app.locator(".widget-text:has(.widget-label:text-is('epochs')) input").press("Enter")
    app.locator("button:has-text('Start')").click()
    _wait_for_text(status, "batch 2/")
    app.locator("button:has-text('Stop')").click()
    _wait_for_text(status, "stopped")
    app.locator("button:has-text('Start')").click()
    _wait_for_text(status, "done")
    epochs = nb.run_below(made + 2, "print(dashboard.history.epoch.tolist(), len(dashboard.result.history))")
    assert epochs.split("]")[0].strip("[ ").split(", ")[0] == "1", epochs
    assert int(epochs.split("]")[1]) == len(epochs.split("]")[0].split(",")) >= 3, "Start did not continue the run"
    assert not nb.errors(), nb.errors()
    nb.screenshot(app, "training_dashboard.png")


def test_the_model_builder_views_agree_and_grey_out_when_invalid(notebook):
    nb = notebook("02_model.ipynb")
    nb.run_all()
    assert not nb.errors(), nb.errors()
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


def test_the_runs_board_filter_narrows_the_rows(notebook):
    nb = notebook("05_experiments.ipynb")
    nb.run_all()
    assert not nb.errors(), nb.errors()
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


TRAIN_FOREVER = [
    "from labkit import data, models, train\n"
    "ds = data.synthetic('direction', n=64, frames=8, size=32, seed=0)\n"
    "model = models.preset('default', num_classes=ds.num_classes, img_size=32, seed=0)",
    "print('training starts', flush=True)\n"
    "result = train.fit(model, ds, epochs=10_000, batch_size=8, augment=False)",
    "print('the next cell ran')",
]


def test_an_interrupt_stops_the_training_cell_and_the_cells_after_it(notebook, scratch_notebook):
    nb = notebook(scratch_notebook("_interrupt_check.ipynb", TRAIN_FOREVER))
    nb.menu("Run", "Run All Cells")
    _wait_for_text(nb.cell(1).locator(".jp-OutputArea"), "training starts", 120_000)
    nb.page.wait_for_timeout(3000)  # well into training
    nb.menu("Kernel", "Interrupt Kernel")
    nb.wait_idle(60_000)
    nb.page.wait_for_timeout(1000)
    output = nb.cell(1).locator(".jp-OutputArea").inner_text()
    assert "TrainingInterrupted" in output and "interrupted during epoch" in output, output[-1500:]
    assert nb.prompts()[2] in ("[ ]:", "[ ]"), f"the cell after the interrupted one ran: {nb.prompts()}"
    assert "the next cell ran" not in nb.cell(2).locator(".jp-OutputArea").inner_text()
