"""viz.explanation_page: one standalone HTML page for one explained clip, built from viz figures."""
import dataclasses

import numpy as np
import pytest

from labkit import explain, models, viz


@pytest.fixture(scope="module")
def explained(tiny_order, tiny_config):
    """Integrated gradients on clip 0 of tiny_order, by an untrained tiny model: clip, label, attribution, probabilities."""
    model = models.DCRN(tiny_config.replace(num_classes=2)).eval()
    clip, label = tiny_order[0]
    attr = explain.attribute(model, clip, method="integrated_gradients", classes=tiny_order.classes, n_steps=4)
    return clip, int(label), attr, model.predict_proba(clip)[0]


def test_one_html_string_with_plotly_inlined_once(tiny_order, explained):
    clip, label, attr, probs = explained
    page = viz.explanation_page(clip, attr, probs, tiny_order.classes, label=label,
                                evidence_frames=tiny_order.evidence_frames[0], title="clip <0>")
    assert isinstance(page, str) and page.startswith("<!DOCTYPE html>") and page.endswith("</html>")
    assert page.count("* plotly.js v") == 1 and "<script src=" not in page  # no network
    assert page.count("Plotly.newPlot") == 3
    # the figures' content: the strip of frames, frame importance, the prediction
    assert "where: |attribution| on every frame" in page and '"type":"image"' in page
    assert "when: frame importance (red: evidence frames)" in page
    assert f"true class: {tiny_order.classes[label]}" in page
    # the facts: method and parameters, explained / predicted / true class, probability, completeness
    assert "method <b>integrated_gradients</b> (n_steps=4" in page
    assert f"predicted <b>{tiny_order.classes[attr.predicted[0]]}</b> with probability {attr.probability[0]:.3f}" in page
    assert f"true class <b>{tiny_order.classes[label]}</b>" in page and "attributions sum to" in page
    assert "<h2>clip &lt;0&gt;</h2>" in page  # the title is escaped


def test_long_clips_wrap_to_fit_a_page(explained):
    """16 frames: two rows of 8 at a readable size, not one strip wider than the page."""
    clip, _, attr, probs = explained
    long_clip = np.concatenate([clip, clip])  # (16, H, W, C)
    long_attr = dataclasses.replace(attr, maps=np.concatenate([attr.maps] * 2, axis=1),
                                    abs_maps=np.concatenate([attr.abs_maps] * 2, axis=1),
                                    frame_scores=np.concatenate([attr.frame_scores] * 2, axis=1))
    strip = viz.saliency_strip(long_clip, {long_attr.method: long_attr}, columns=8)
    assert list(strip.layout.yaxis.ticktext) == ["integrated_gradients", ""]
    assert [a.text for a in strip.layout.annotations] == [f"t={k}" for k in range(16)]  # every frame labelled
    assert strip.layout.width <= 900
    page = viz.explanation_page(long_clip, long_attr, probs, ["a", "b"])
    assert f'"width":{strip.layout.width}' in page and '"text":"t=15"' in page  # the page holds that strip
