"""The lab as a user sees it: notebooks run in JupyterLab, widgets render, a slider moves the model.

Screenshots go to docs/img/ (the README shows them).
"""
from __future__ import annotations

import json
import pathlib
import urllib.request

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

IMG_DIR = pathlib.Path(__file__).resolve().parents[2] / "docs" / "img"
WIDGET_ERRORS = ("Error displaying widget", "Failed to load model class")
RUN_TIMEOUT_MS = 240_000


def _shutdown_kernels(lab) -> None:
    kernels = json.load(urllib.request.urlopen(lab.url("api/kernels")))
    for k in kernels:
        req = urllib.request.Request(lab.url(f"api/kernels/{k['id']}"), method="DELETE")
        urllib.request.urlopen(req)


def _open_and_run_all(page, lab, name: str) -> None:
    """Open notebooks/<name> in a fresh workspace, wait for its kernel, Run > Run All Cells, wait until done."""
    page.goto(lab.url(f"lab/tree/{name}").replace("?", "?reset&"))
    page.wait_for_selector(".jp-StatusBar-TextItem:has-text('| Idle')", timeout=90_000)
    page.click(".lm-MenuBar-itemLabel:text-is('Run')")
    page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
    # done when every code cell shows an execution count, e.g. "[7]:" (not "[ ]:" or "[*]:")
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')];
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""",
        timeout=RUN_TIMEOUT_MS, polling=500,
    )
    page.wait_for_selector(".jp-StatusBar-TextItem:has-text('| Idle')", timeout=60_000)


def _assert_rendered(page, name: str, sliders: bool = True) -> None:
    text = page.inner_text(".jp-Notebook")
    for message in WIDGET_ERRORS:
        assert message not in text, f"{name}: {message!r} in the page; console: {page.console_errors[-5:]}"
    assert "Traceback" not in text, f"{name}: a cell raised:\n{text[max(0, text.index('Traceback') - 500):][:2000]}"
    if sliders:
        assert page.locator(".jp-Notebook .widget-slider").count() > 0, f"{name}: no ipywidgets slider rendered"
    assert page.locator(".jp-Notebook .js-plotly-plot").count() > 0, f"{name}: no plotly figure rendered"


def _nudge_slider(page, app, label: str) -> str:
    """Focus the handle of `app`'s slider described `label`, press ArrowRight (ArrowLeft at its max);
    return the key that moved it."""
    handle = app.locator(f".widget-slider:has(.widget-label:text-is('{label}')) .noUi-handle").first
    handle.scroll_into_view_if_needed()
    before = handle.get_attribute("aria-valuenow")
    handle.focus()
    key = "ArrowRight"
    page.keyboard.press(key)
    page.wait_for_timeout(300)
    if handle.get_attribute("aria-valuenow") == before:
        key = "ArrowLeft"
        page.keyboard.press(key)
    page.wait_for_timeout(300)
    assert handle.get_attribute("aria-valuenow") != before, f"the {label!r} slider did not move"
    return key


def _wait_for_change(page, output, before: str, timeout_ms: int = 20_000) -> str:
    deadline = page.evaluate("Date.now()") + timeout_ms
    while page.evaluate("Date.now()") < deadline:
        page.wait_for_timeout(500)
        after = output.inner_html()
        if after != before:
            page.wait_for_timeout(1000)  # let the plot finish redrawing before a screenshot
            return output.inner_html()
    return before


def _screenshot(output, name: str) -> pathlib.Path:
    IMG_DIR.mkdir(parents=True, exist_ok=True)
    path = IMG_DIR / name
    output.scroll_into_view_if_needed()
    output.screenshot(path=str(path))
    assert path.stat().st_size < 500_000, f"{path} is {path.stat().st_size} bytes; keep screenshots small"
    return path


def test_model_builder_renders_and_follows_its_sliders(lab, page):
    try:
        _open_and_run_all(page, lab, "02_model.ipynb")
        _assert_rendered(page, "02_model")
        builder = page.locator(".labkit-model-builder").first
        before_text, before_html = builder.inner_text(), builder.inner_html()
        _nudge_slider(page, builder, "conv blocks")
        after_html = _wait_for_change(page, builder, before_html)
        assert after_html != before_html, "the ModelBuilder did not change after a slider move"
        assert builder.inner_text() != before_text, "the summary text did not change after a slider move"
        _assert_rendered(page, "02_model")
        _screenshot(builder, "model_builder.png")
    finally:
        _shutdown_kernels(lab)


def test_saliency_explorer_renders_and_scrubs_frames(lab, page):
    try:
        _open_and_run_all(page, lab, "04_explain.ipynb")
        _assert_rendered(page, "04_explain")
        explorer = page.locator(".labkit-saliency-explorer").first
        before = explorer.inner_html()
        key = _nudge_slider(page, explorer, "frame")
        moved = _wait_for_change(page, explorer, before)
        assert moved != before, "the explorer did not change after a slider move"
        # and back to the frame the notebook chose (the most important one) for the screenshot
        page.keyboard.press("ArrowLeft" if key == "ArrowRight" else "ArrowRight")
        single = _wait_for_change(page, explorer, moved)
        explorer.locator(".widget-checkbox:has-text('side by side') input").check()  # a second method
        assert _wait_for_change(page, explorer, single) != single, "ticking 'side by side' changed nothing"
        assert explorer.locator(".js-plotly-plot").count() >= 2, "no second saliency figure side by side"
        _assert_rendered(page, "04_explain")
        _screenshot(explorer, "saliency_explorer.png")
    finally:
        _shutdown_kernels(lab)


def test_data_notebook_shows_clips(lab, page):
    try:
        _open_and_run_all(page, lab, "01_data.ipynb")
        _assert_rendered(page, "01_data", sliders=False)
        strip = page.locator(".js-plotly-plot").first  # the first figure: one clip per class, frames side by side
        strip.locator("image").first.wait_for(state="attached", timeout=30_000)  # go.Image draws an svg <image>
        _screenshot(strip, "data_clips.png")
    finally:
        _shutdown_kernels(lab)
