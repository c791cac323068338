"""The explain notebook's apps as a student sees them in JupyterLab (fast mode, a 1400 px wide
window; that every figure of every notebook fits is test_lab.py's): the SaliencyExplorer offers
only the methods that apply and keeps its controls inside the output area with no dropdown text
cut, and the NetworkInspector shows feature maps and hidden states
that follow its frame slider.

Screenshots of the explorer and the inspector go to docs/img/ (the README shows them).
"""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# An app's visible controls and figures that reach past the output area holding it, and each
# visible <select> whose chosen text is wider than its box leaves room for (in the select's font).
APP_PROBLEMS = """(app) => {
    const area = app.closest('.jp-OutputArea-output').getBoundingClientRect();
    const parts = [...app.querySelectorAll('.widget-inline-hbox, .widget-select, .widget-toggle-buttons, .main-svg')];
    const outside = parts.filter(e => e.offsetParent !== null || e.tagName === 'svg')
        .map(e => ({what: (e.className.baseVal ?? e.className) + ' ' + e.textContent.slice(0, 40),
                    right: e.getBoundingClientRect().right}))
        .filter(e => e.right > area.right + 1);
    const ctx = document.createElement('canvas').getContext('2d');
    const cut = [...app.querySelectorAll('select:not([multiple])')].filter(s => s.offsetParent !== null).map(s => {
        const style = getComputedStyle(s);
        ctx.font = style.font;
        const text = s.selectedIndex >= 0 ? s.options[s.selectedIndex].text : '';
        const room = s.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        return {text, need: ctx.measureText(text).width, room};
    }).filter(s => s.need > s.room);
    return {area_right: area.right, outside, cut};
}"""

# What a FigureWidget shows now: trace k's property `key` of the app's n-th plot.
TRACE = """(app, [n, k, key]) => JSON.stringify(app.querySelectorAll('.js-plotly-plot')[n].data[k][key])"""


def _fits(app, name: str) -> None:
    problems = app.evaluate(APP_PROBLEMS)
    assert not problems["outside"], f"{name}: parts past the output area's right edge: {problems['outside']}"
    assert not problems["cut"], f"{name}: dropdown texts cut: {problems['cut']}"


def _wait_until_changed(page, app, args, before: str, timeout_ms: int = 20_000) -> str:
    page.wait_for_function(f"([app, args, before]) => ({TRACE})(app, args) !== before",
                           arg=[app.element_handle(), list(args), before], timeout=timeout_ms, polling=200)
    return app.evaluate(TRACE, list(args))


def test_the_explorer_fits_and_offers_only_methods_that_apply(ran):
    nb = ran("04_explain.ipynb")
    page = nb.page
    boxes, bad = nb.figures()
    assert len(boxes) >= 10 and not bad, f"figures wider than their output area or with a cut title: {bad}"

    explorer = page.locator(".labkit-saliency-explorer").first
    offered = explorer.locator("select").nth(3).evaluate(  # the method list (ipywidgets writes &nbsp;)
        "s => [...s.options].map(o => o.text.replace(/\\u00a0/g, ' '))")
    applies = nb.run_below(nb.index_of("widgets.SaliencyExplorer("),
                           "print('|'.join(m.label for m in explain.methods() if m.applies(model) is None))")
    assert offered == applies.strip().split("|"), f"offered {offered}; the kernel says {applies}"
    assert not any("DeepLift" in o for o in offered), offered
    assert "DeepLift" in explorer.inner_text()  # ... and the explorer says why it is missing

    explorer.locator(".widget-checkbox:has-text('side by side') input").check()
    # figures: method A, the decision curve, then method B's (shown side by side now)
    explorer.locator(".js-plotly-plot").nth(2).locator("image").first.wait_for(state="attached", timeout=60_000)
    page.wait_for_timeout(1500)
    _fits(explorer, "the explorer, side by side")
    nb.screenshot(explorer, "saliency_explorer.png")


def test_inspector_shows_maps_and_states_and_follows_the_frame_slider(ran):
    nb = ran("04_explain.ipynb")
    page = nb.page
    inspector = page.locator(".labkit-network-inspector").first
    inspector.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    plots = inspector.locator(".js-plotly-plot")
    assert plots.count() == 4, f"expected feature maps, keypoints and two state heatmaps; found {plots.count()}"
    assert plots.nth(0).locator("image").count() == 1  # the feature-map grid
    assert "feature maps" in plots.nth(0).inner_text()
    assert "hidden state h" in plots.nth(2).inner_text() and plots.nth(2).locator(".hm, .heatmaplayer").count()
    assert "update gate z" in plots.nth(3).inner_text()
    _fits(inspector, "the inspector")

    before_maps = inspector.evaluate(TRACE, [0, 0, "source"])
    before_cursor = inspector.evaluate(TRACE, [2, 1, "x"])
    frame = int(float(nb.press_slider(inspector, "frame", "ArrowRight")))
    after_cursor = _wait_until_changed(page, inspector, [2, 1, "x"], before_cursor)
    assert after_cursor == f"[{frame},{frame}]", f"the cursor shows {after_cursor}, the slider frame {frame}"
    assert inspector.evaluate(TRACE, [3, 1, "x"]) == after_cursor  # both heatmaps follow
    assert inspector.evaluate(TRACE, [0, 0, "source"]) != before_maps, "the feature maps did not follow the slider"
    nb.press_slider(inspector, "frame", "ArrowLeft")  # back to the flash the notebook chose
    _wait_until_changed(page, inspector, [2, 1, "x"], after_cursor)
    page.wait_for_timeout(800)
    nb.screenshot(inspector, "network_inspector.png")
