"""SaliencyExplorer: filters choose clips, controls come from explain.methods(), frames scrub."""
import json

import ipywidgets as W
import numpy as np
import pytest
import torch
from ipywidgets.embed import embed_data

from labkit import explain, models, train
from labkit.widgets import SaliencyExplorer
from labkit.widgets.method_controls import MethodControls, param_widget


@pytest.fixture(scope="module")
def model(tiny_config):
    torch.manual_seed(0)
    return models.DCRN(tiny_config.replace(num_classes=2)).eval()


@pytest.fixture(scope="module")
def evaluation(model, tiny_order):
    return train.evaluate(model, tiny_order)


@pytest.fixture
def explorer(model, tiny_order, evaluation):
    return SaliencyExplorer(model, tiny_order, evaluation=evaluation, method="saliency",
                            compare_method="frame_ablation")


def test_opens_on_the_first_clip_with_a_heatmap(explorer, evaluation):
    assert explorer.clip.value == 0 and len(explorer.clip.options) == len(evaluation.predictions)
    assert [t.type for t in explorer.figure_a.data] == ["image", "heatmap", "bar"]
    assert "true</b> " + evaluation.predictions["true"].iat[0] in explorer.info.value
    assert explorer.attribution_a.method == "saliency" and explorer.frame.max == 7
    assert not explorer.figure_a.layout.sliders  # the widget's own Play/slider drive the frames


def test_filters_split_clips_into_correct_and_wrong(explorer, evaluation, tiny_order):
    correct = evaluation.predictions["correct"].to_numpy()
    explorer.filter.value = "wrong"
    assert list(explorer.clip_indices()) == list(np.flatnonzero(~correct))
    explorer.filter.value = "correct"
    explorer.class_filter.value = 1
    expected = np.flatnonzero(correct & (tiny_order.labels == 1))
    assert [v for _, v in explorer.clip.options] == list(expected)


def test_scrubbing_frames_restyles_the_figure(explorer):
    before = (explorer.figure_a.data[0].source, np.asarray(explorer.figure_a.data[1].z).copy(),
              tuple(explorer.figure_a.data[2].marker.color))
    explorer.frame.value = 6
    after = (explorer.figure_a.data[0].source, np.asarray(explorer.figure_a.data[1].z),
             tuple(explorer.figure_a.data[2].marker.color))
    assert before[0] != after[0] and not np.array_equal(before[1], after[1]) and before[2] != after[2]
    assert after[2].count(after[2][6]) == 1  # the bar of frame 6 is the highlighted one
    explorer.opacity.value = 0.25
    assert explorer.figure_a.data[1].opacity == 0.25


def test_target_method_and_parameters_recompute(explorer, model, tiny_order):
    explorer.target.value = 1
    assert list(explorer.attribution_a.target) == [1]
    explorer.method_a.dropdown.value = "integrated_gradients"
    assert set(explorer.method_a.widgets) == {"n_steps", "baseline"}  # internal_batch_size: labkit's choice
    explorer.method_a.widgets["n_steps"].value = 4
    attr = explorer.attribution_a
    assert attr.method == "integrated_gradients" and attr.params["n_steps"] == 4
    direct = explain.attribute(model, tiny_order[0][0], target=1, method="integrated_gradients", n_steps=4)
    np.testing.assert_allclose(attr.maps, direct.maps, rtol=1e-5, atol=1e-7)
    # integrated gradients says whether its attributions add up; saliency has nothing to say
    assert "integrated_gradients: attributions sum to" in explorer.status.value
    assert "% apart" in explorer.status.value or "no difference" in explorer.status.value


def test_side_by_side_shows_a_second_method(explorer):
    assert explorer.attribution_b is None and explorer._panel_b.layout.display == "none"
    assert "sum to" not in explorer.status.value
    explorer.compare.value = True
    assert explorer.attribution_b.method == "frame_ablation"
    assert explorer._panel_b.layout.display is None and len(explorer.figure_b.data) == 3
    explorer.frame.value = 3
    colors = list(explorer.figure_b.data[2].marker.color)
    assert colors.count(colors[3]) == 1


def test_signed_toggle_and_state_serialises(explorer):
    explorer.signed.value = True
    assert explorer.figure_a.data[1].zmin == -100
    json.dumps(embed_data(views=[explorer])["manager_state"])


def test_controls_are_built_from_param_specs():
    ints = explain.ParamSpec("n_steps", "int", 32, 2, 256)
    assert isinstance(param_widget(ints), W.IntSlider)
    assert isinstance(param_widget(explain.ParamSpec("seed", "int", 0, 0, 2**31 - 1)), W.BoundedIntText)
    assert isinstance(param_widget(explain.ParamSpec("noise", "float", 0.15, 0.0, 1.0)), W.FloatSlider)
    assert isinstance(param_widget(explain.ParamSpec("abs", "bool", True)), W.Checkbox)
    assert param_widget(explain.ParamSpec("b", "choice", "black", choices=("black", "blur"))).options == ("black", "blur")
    assert param_widget(explain.ParamSpec("internal_batch_size", "int", None, 1, 4096)) is None
    controls = MethodControls(explain.methods(), "smoothgrad")
    assert set(controls.params) == {"nt_samples", "noise", "seed"}
    with pytest.raises(ValueError, match="unknown method"):
        MethodControls(explain.methods(), "lime")


def test_a_mismatched_evaluation_is_refused(model, tiny_order, tiny_direction, evaluation):
    with pytest.raises(ValueError, match="evaluation has"):
        SaliencyExplorer(model, tiny_direction, evaluation=evaluation)


def test_only_methods_that_apply_are_offered(explorer, model, tiny_order, evaluation):
    """DeepLift cannot see inside a fused GRU: it is not offered (and says why), nor can it be asked for."""
    offered = [v for _, v in explorer.method_a.dropdown.options]
    assert "deeplift" not in offered and "integrated_gradients" in offered
    assert offered == [v for _, v in explorer.method_b.dropdown.options]
    assert "nn.GRU" in explorer.refused["deeplift"] and "DeepLift</b> — DeepLift" in explorer.unavailable.value
    with pytest.raises(ValueError, match="deeplift cannot explain this model"):
        SaliencyExplorer(model, tiny_order, evaluation=evaluation, method="deeplift")


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "tcn", "attention", "convlstm", "none"])
def test_every_temporal_model_can_be_explored(cell, tiny, tiny_order):
    model = tiny("default", num_classes=2, cell=cell)
    explorer = SaliencyExplorer(model, tiny_order, method="saliency", compare_method="grad_cam")
    offered = [v for _, v in explorer.method_a.dropdown.options]
    assert offered == [m.name for m in explain.methods() if m.applies(model) is None]
    assert ("deeplift" in offered) == (cell in ("tcn", "none"))
    explorer.compare.value = True
    assert [t.type for t in explorer.figure_b.data] == ["image", "heatmap", "bar"]
    assert "⚠" not in explorer.status.value


def test_an_error_clears_the_figure_and_says_why(explorer, monkeypatch):
    def refuse(*args, method=None, **kw):
        raise ValueError(f"{method} refuses this clip")

    explorer.method_a.dropdown.value = "smoothgrad"
    assert len(explorer.figure_a.data) == 3
    monkeypatch.setattr(explain, "attribute", refuse)
    explorer.method_a.dropdown.value = "occlusion"
    assert len(explorer.figure_a.data) == 0 and explorer.attribution_a is None  # no stale heatmap
    assert "occlusion" in explorer.figure_a.layout.annotations[0].text
    assert "occlusion refuses this clip" in explorer.status.value
    monkeypatch.undo()
    explorer.signed.value = True  # any change tries again
    assert [t.type for t in explorer.figure_a.data] == ["image", "heatmap", "bar"]
    assert explorer.attribution_a.method == "occlusion" and not explorer.figure_a.layout.annotations


def test_signed_mode_and_class_take_effect_at_once(explorer, tiny_order):
    from labkit import viz

    explorer.method_a.dropdown.value = "input_x_gradient"  # signed maps
    heat = explorer.figure_a.data[1]
    assert heat.zmin == 0 and [list(c) for c in heat.colorscale] == viz.saliency.ABS_SCALE
    explorer.signed.value = True
    heat = explorer.figure_a.data[1]
    assert heat.zmin == -100 and [list(c) for c in heat.colorscale] == viz.saliency.SIGNED_SCALE
    assert np.asarray(heat.z).min() < 0
    for k, name in enumerate(tiny_order.classes):
        explorer.target.value = k
        assert list(explorer.attribution_a.target) == [k]
        assert f"target {name}" in explorer.figure_a.layout.title.text


def test_an_empty_filter_says_so_instead_of_keeping_the_old_clip(model, tiny_order, evaluation):
    import dataclasses

    perfect = dataclasses.replace(evaluation, predictions=evaluation.predictions.assign(correct=True))
    explorer = SaliencyExplorer(model, tiny_order, evaluation=perfect, method="saliency")
    assert len(explorer.figure_a.data) == 3
    explorer.filter.value = "wrong"
    assert explorer.clip.options == () and explorer.info.value == ""
    assert len(explorer.figure_a.data) == 0 and explorer.attribution_a is None
    assert "no mistakes" in explorer.status.value and "no mistakes" in explorer.figure_a.layout.annotations[0].text
    explorer.filter.value = "all"  # clips again: the first one is explained
    assert explorer.clip.value == 0 and len(explorer.figure_a.data) == 3


def test_controls_fit_beside_each_other(explorer):
    """The controls are at most 360 px wide, and the rows wrap rather than run off the output's right edge."""
    assert explorer.method_a.dropdown.layout.width == explorer.clip.layout.width == "360px"
    top, _, _, panels = explorer.children[:4]
    assert top.layout.flex_flow == panels.layout.flex_flow == "row wrap"
