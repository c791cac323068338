"""Saliency overlays: heatmap over each frame, frame-importance bars, methods side by side."""
from types import SimpleNamespace

import numpy as np
import pytest

from labkit import viz


@pytest.fixture
def clip_and_maps():
    clip = np.full((8, 32, 32, 3), 60, np.uint8)
    maps = np.zeros((8, 32, 32), np.float32)
    for t in range(8):
        clip[t, 10:16, 2 + 3 * t:8 + 3 * t] = 250
        maps[t, 10:16, 2 + 3 * t:8 + 3 * t] = 1 + t
        maps[t, 25:28, 25:28] = -2.0
    return clip, maps


def test_overlay_has_image_heatmap_and_bars(clip_and_maps):
    clip, maps = clip_and_maps
    fig = viz.saliency_overlay(clip, maps, frame=3, opacity=0.3)
    assert [t.type for t in fig.data] == ["image", "heatmap", "bar"]
    assert fig.data[1].opacity == 0.3
    z = np.asarray(fig.data[1].z)
    assert z.max() == 100 * 4 // 8 and z.min() == 0  # |map| in % of the clip's peak (frame 7: 8)
    colors = list(fig.data[2].marker.color)
    assert colors.count(colors[3]) == 1  # the shown frame's bar stands out
    np.testing.assert_allclose(fig.data[2].y, np.abs(maps).sum((1, 2)))


def test_signed_mode_keeps_negative_evidence(clip_and_maps):
    clip, maps = clip_and_maps
    z = np.asarray(viz.saliency_overlay(clip, maps, signed=True, frame=0).data[1].z)
    assert z.min() < 0 < z.max()
    assert viz.saliency_overlay(clip, maps, signed=True).data[1].zmin == -100


def test_animation_frames_restyle_picture_heatmap_and_bars(clip_and_maps):
    clip, maps = clip_and_maps
    fig = viz.saliency_overlay(clip, maps, fps=5)
    assert len(fig.frames) == 8 and list(fig.frames[5].traces) == [0, 1, 2]
    z5 = np.asarray(fig.frames[5].data[1].z)
    assert z5.max() == round(100 * 6 / 8)
    assert fig.frames[5].data[0].source != fig.frames[4].data[0].source
    assert len(fig.layout.sliders[0].steps) == 8
    assert not viz.saliency_overlay(clip, maps, animate=False).frames


def test_an_attribution_object_is_unpacked_by_index(clip_and_maps):
    clip, maps = clip_and_maps
    attr = SimpleNamespace(maps=np.stack([maps, -maps]), frame_scores=np.arange(16.0).reshape(2, 8),
                           method="integrated_gradients", target=np.array([1, 0]),
                           predicted=np.array([1, 1]), probability=np.array([0.9, 0.6]))
    fig = viz.saliency_overlay(np.stack([clip, clip]), attr, index=1, signed=True)
    assert list(fig.data[2].y) == list(range(8, 16))
    assert "integrated_gradients" in fig.layout.title.text and "p=0.60" in fig.layout.title.text
    assert np.asarray(fig.data[1].z).min() == -round(100 * 1 / 8)


def test_bad_shapes_are_named(clip_and_maps):
    clip, maps = clip_and_maps
    with pytest.raises(ValueError, match="do not match"):
        viz.saliency_overlay(clip, maps[:, :16])
    with pytest.raises(ValueError, match="outside"):
        viz.saliency_overlay(clip, maps, frame=8)


def test_strip_one_row_per_method(clip_and_maps):
    clip, maps = clip_and_maps
    fig = viz.saliency_strip(clip, {"IG": maps, "occlusion": -maps}, every=2)
    assert [t.type for t in fig.data] == ["image", "heatmap"] * 2
    assert list(fig.layout.yaxis.ticktext) == ["IG", "occlusion"]
    assert len(fig.layout.xaxis.tickvals) == 4


def test_strip_wraps_long_clips_onto_labelled_rows(clip_and_maps):
    clip, maps = clip_and_maps
    fig = viz.saliency_strip(clip, {"IG": maps, "occlusion": -maps}, columns=3)
    assert [t.type for t in fig.data] == ["image", "heatmap"] * 6  # 8 frames: rows of 3, 3, 2 per method
    labels = list(fig.layout.yaxis.ticktext)
    assert labels[:3] == ["IG<br>t=0–2", "t=3–5", "t=6–7"] and labels[3] == "occlusion<br>t=0–2"
    assert fig.layout.xaxis.showticklabels is False and fig.layout.width <= 1000
    heat = np.asarray(fig.data[5].z)  # IG's last row: frames 6 and 7, then blank
    assert heat.shape == (32, 3 * 34 - 2) and not heat[:, 2 * 34:].any()


def test_frame_importance_marks_evidence_frames():
    scores = np.arange(6.0)
    fig = viz.frame_importance(scores, evidence=[False, True, False, False, True, False])
    bar = fig.data[0]
    np.testing.assert_allclose(bar.y, scores)
    assert bar.marker.color[1] == bar.marker.color[4] != bar.marker.color[0]
    assert "evidence" in fig.layout.title.text
    assert isinstance(viz.frame_importance(scores).data[0].marker.color, str)
    with pytest.raises(ValueError, match="evidence marks 2 frames"):
        viz.frame_importance(scores, evidence=[True, False])
