"""The SaliencyExplorer's tools: ClipEditor, ExportControls, FaithfulnessPanel and the decision curve. Every edit the controls
describe is `explain.edit`'s, and prediction, decision curve and heatmap follow each change."""
import numpy as np
import pytest
import torch
from PIL import Image

from labkit import explain, models, train
from labkit.widgets import SaliencyExplorer
from labkit.widgets.clip_editor import ClipEditor, format_frames, parse_frames
from labkit.widgets.export_controls import ExportControls


@pytest.fixture(scope="module")
def model(tiny_config):
    torch.manual_seed(0)
    return models.DCRN(tiny_config.replace(num_classes=2)).eval()


@pytest.fixture
def editor(order_model, order_ds):
    return ClipEditor(order_model, order_ds, method="saliency", index=0)


def test_frames_are_written_as_numbers_and_ranges():
    assert parse_frames("2-4, 7") == [2, 3, 4, 7] and parse_frames(" ") is None and parse_frames("5") == [5]
    assert format_frames([7, 2, 3, 4]) == "2-4, 7"
    with pytest.raises(Exception, match="2-4, 7"):
        parse_frames("two")


@pytest.mark.parametrize("op,settings", [
    ("drop", {"frames": "1-2"}), ("duplicate", {"frames": "0, 3"}), ("freeze", {"frames": "4"}),
    ("reverse", {"frames": ""}), ("shuffle", {"frames": "", "seed": 3}), ("mask", {"rows": (2, 9), "cols": (4, 12)}),
    ("swap", {"frames": "2", "source": 5, "source_frame": 1})])
def test_each_edit_is_explain_edit_and_updates_prediction_curve_and_heatmap(editor, order_ds, op, settings):
    before = editor.heatmap.data[1].z
    with editor.quietly():
        editor.op.value = op
        for name, value in settings.items():
            getattr(editor, name).value = value
    editor.update()
    kw = editor.edit_args()
    np.testing.assert_array_equal(editor.edited, explain.edit(order_ds[0][0], **kw))
    np.testing.assert_allclose(editor.edited_probs, editor.model.predict_proba(editor.edited)[0], atol=1e-6)
    assert len(editor.attribution.maps[0]) == len(editor.edited)
    assert editor.frame.max == len(editor.edited) - 1
    dashed = [t for t in editor.curve.data if t.line and t.line.dash == "dash"]
    assert dashed and len(dashed[0].x) == len(editor.edited)  # the edited clip's decision curve
    assert "edited</b> (%d frames)" % len(editor.edited) in editor.verdict.value
    if op in ("mask", "swap", "drop"):
        assert not np.array_equal(before, editor.heatmap.data[1].z)


def test_a_control_move_updates_at_once(editor):
    editor.frames.value = "0-3"  # drop the first four frames: a live update, no button
    assert len(editor.edited) == len(editor.original) - 4
    editor.op.value = "mask"
    assert editor.frames.layout.display == "none" and editor.rows.layout.display is None
    assert len(editor.edited) == len(editor.original)


def test_a_bad_edit_says_why_and_clears_the_pictures(editor):
    editor.frames.value = "0-99"
    assert editor.edited is None and "frames" in editor.verdict.value and "⚠" in editor.verdict.value
    assert not editor.heatmap.data and not editor.curve.data
    editor.frames.value = "1"
    assert editor.edited is not None and editor.heatmap.data


def test_smallest_flip_finds_frames_that_flip_the_prediction(editor, order_model):
    found = editor.find_flip()
    if found is None:
        assert "no set of frames" in editor.verdict.value
        return
    assert editor.op.value == "drop" and parse_frames(editor.frames.value) == found
    flipped = order_model.predict_proba(explain.edit(editor.original, "drop", found))[0].argmax()
    assert flipped != editor.predicted and "prediction flips" in editor.verdict.value


def test_export_controls_write_gif_mp4_and_html_and_refuse_other_names(tmp_path, order_model, order_ds):
    clip = order_ds[0][0]
    attr = explain.attribute(order_model, clip, method="saliency")
    shown = {"clip": clip, "attribution": attr, "probabilities": order_model.predict_proba(clip)[0],
             "classes": order_ds.classes, "label": 0, "title": "t"}
    ex = ExportControls(lambda: shown)
    for name in ("a.gif", "a.mp4", "a.html"):
        ex.path.value = str(tmp_path / name)
        assert ex.export() == tmp_path / name and "wrote" in ex.status.value
    assert Image.open(tmp_path / "a.gif").n_frames == len(clip)
    ex.path.value = str(tmp_path / "a.png")
    assert ex.export() is None and ".gif" in ex.status.value
    assert ExportControls(lambda: None).export() is None


def test_the_explorer_shows_when_the_model_decided_and_follows_the_frame(model, tiny_order):
    ex = SaliencyExplorer(model, tiny_order, method="saliency")
    clip = tiny_order[0][0]
    curve = model.predict_prefixes(clip)
    lines = [t for t in ex.figure_decision.data if t.type == "scatter" and t.name]
    assert {t.name for t in lines} == set(tiny_order.classes)
    np.testing.assert_allclose(lines[0].y, curve[:, tiny_order.classes.index(lines[0].name)], atol=1e-6)
    bars = ex.figure_decision.data[0]
    np.testing.assert_allclose(bars.y, ex.attribution_a.frame_scores[0], atol=1e-6)
    ex.frame.value = 5
    assert list(ex.figure_decision.data[-1].x) == [5, 5]


def test_the_editor_opens_on_the_explorers_clip_and_follows_it(model, tiny_order, tmp_path):
    ex = SaliencyExplorer(model, tiny_order, method="saliency")
    assert ex.editor is None  # built only when opened: no cost for who never uses it
    ex.tools.selected_index = 0
    assert ex.editor.index == ex.clip.value
    ex.clip.value = 3
    assert ex.editor.index == 3 and np.array_equal(ex.editor.original, tiny_order[3][0])
    ex.export.path.value = str(tmp_path / "x.gif")
    assert ex.export.export() is not None
    assert Image.open(tmp_path / "x.gif").n_frames == len(tiny_order[3][0])


def test_the_faithfulness_panel_gives_verdicts_with_intervals(model, tiny_order):
    ex = SaliencyExplorer(model, tiny_order, method="saliency")
    panel = ex.faithfulness
    panel.clips.value = 4
    report = panel.check()
    judged = report.summary[report.summary.reference.notna()]
    assert set(judged.verdict) <= {"passed", "failed", "inconclusive"}
    for v in judged.verdict:
        assert v in panel.table.value
    assert "95%" in panel.table.value and panel.figure.data and "saliency on 4 clips" in panel.status.value
