"""The SaliencyExplorer's tools in a real JupyterLab (04_explain, fast mode): the counterfactual
editor follows a slider move, a typed edit and the smallest-flip button with a new prediction and
heatmap, and the export button writes a GIF that decodes back to the clip's frames.
"""
from __future__ import annotations

import pytest
from PIL import Image

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# what the app's n-th plot draws now: its trace k's property `key`, as JSON text
SHOWN = "(app, [n, k, key]) => JSON.stringify(app.querySelectorAll('.js-plotly-plot')[n].data[k][key])"


def _changes(page, app, n: int, k: int, key: str, before: str) -> None:
    """Wait until trace k of the app's n-th plot shows another `key` than `before`."""
    page.wait_for_function(f"([app, args, before]) => ({SHOWN})(app, args) !== before",
                           arg=[app.element_handle(), [n, k, key], before], timeout=30_000, polling=200)


def _kernel(nb, code: str) -> str:
    """Run `code` in a new cell after the editor's cell; its printed output."""
    return nb.run_below(nb.index_of("widgets.ClipEditor("), code).strip()


def test_the_editor_updates_prediction_and_heatmap_on_a_slider_a_typed_edit_and_a_button(ran):
    nb = ran("04_explain.ipynb")
    page = nb.page
    editor = page.locator(".jp-CodeCell:has-text('widgets.ClipEditor(') .labkit-clip-editor").first
    editor.scroll_into_view_if_needed()
    verdict = editor.locator(".labkit-verdict")
    assert "original" in verdict.inner_text() and "frames" in verdict.inner_text()

    # a typed edit: drop frames 0-3 -> the edited clip is 4 frames shorter, its heatmap redrawn
    heat_before = editor.evaluate(SHOWN, [1, 1, "z"])
    editor.locator("select").first.select_option(label="drop")
    box = editor.locator(".widget-text:has(.widget-label:text-is('frames')) input")
    box.fill("0-3")
    box.press("Enter")
    _changes(page, editor, 1, 1, "z", heat_before)
    page.wait_for_function("(e) => e.textContent.includes('(4 frames)')", arg=verdict.element_handle(), timeout=30_000)

    # a slider: mask a region, move its top edge; picture, heatmap and prediction follow
    editor.locator("select").first.select_option(label="mask")
    page.wait_for_function("(e) => e.textContent.includes('(8 frames)')", arg=verdict.element_handle(), timeout=30_000)
    image_before, heat_before = editor.evaluate(SHOWN, [1, 0, "source"]), editor.evaluate(SHOWN, [1, 1, "z"])
    top = int(float(nb.press_slider(editor, "rows", "ArrowLeft", times=3)))
    _changes(page, editor, 1, 0, "source", image_before)
    _changes(page, editor, 1, 1, "z", heat_before)
    page.wait_for_timeout(1000)
    said = _kernel(nb, "e = editor\nprint(e.rows.value[0], f'{e.edited_probs.max():.2f}')")
    assert said.split()[0] == str(top), f"the slider shows {top}, the kernel used {said}"
    assert f" {said.split()[1]}" in verdict.inner_text(), f"the page shows {verdict.inner_text()}, the kernel {said}"

    # the button: the smallest set of frames whose removal flips the prediction
    editor.locator("button:has-text('smallest flip')").click()
    page.wait_for_function("(e) => e.textContent.includes('smallest flip') || e.textContent.includes('no set of')",
                           arg=verdict.element_handle(), timeout=60_000)
    if "smallest flip" in verdict.inner_text():
        assert "prediction flips" in verdict.inner_text()
    nb.screenshot(editor, "clip_editor.png")


def test_the_export_button_writes_a_gif_of_the_clip(ran, tmp_path):
    nb = ran("04_explain.ipynb")
    page = nb.page
    explorer = page.locator(".labkit-saliency-explorer").first
    explorer.locator(".lm-AccordionPanel-title, .p-Collapse-header, .jupyter-widget-Collapse-header").filter(
        has_text="export the explanation").first.click()
    target = tmp_path / "from_the_button.gif"
    path = explorer.locator(".widget-text:has(.widget-label:text-is('export to')) input")
    path.fill(str(target))
    path.press("Enter")
    explorer.locator("button:has-text('export')").last.click()
    page.wait_for_function("(e) => e.textContent.includes('wrote')", arg=explorer.element_handle(), timeout=30_000)
    frames = int(_kernel(nb, "print(len(test_ds[explorer.clip.value][0]))\n"
                            "explorer.tools.selected_index = None  # closed again, as the notebook left it\n"
                            "explorer.export.path.value = 'explained.gif'; explorer.export.status.value = ''"))
    with Image.open(target) as gif:
        assert gif.n_frames == frames
