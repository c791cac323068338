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
    assert list(fig.layout.yaxis.ticktext) == ["IG", "", "", "occlusion", "", ""]
    assert fig.layout.xaxis.showticklabels is False and fig.layout.width <= viz.clips.OUTPUT_WIDTH
    # every frame keeps its index in sight: a label under each frame of each row
    labels = [a.text for a in fig.layout.annotations]
    assert labels == [f"t={k}" for k in range(8)] * 2
    heat = np.asarray(fig.data[5].z)  # IG's last row: frames 6 and 7, then blank
    assert heat.shape == (32, 3 * 34 - 2) and not heat[:, 2 * 34:].any()


def test_a_long_strip_fits_the_output_area():
    """16 frames with six methods (notebook 04): 32 px frames stay one row per method, at least at
    their own size; 64 px frames that would shrink below 40 px wrap onto two rows of 8."""
    names = ("saliency", "integrated_gradients", "smoothgrad", "occlusion", "grad_cam", "frame_ablation")
    for side, rows in ((32, 1), (64, 2)):
        maps = {name: np.random.default_rng(0).normal(size=(16, side, side)) for name in names}
        fig = viz.saliency_strip(np.zeros((16, side, side, 3), np.uint8), maps, title="six methods")
        assert fig.layout.width <= 900 and len(fig.data) == 2 * 6 * rows
        frame_px = (fig.layout.width - fig.layout.margin.l - fig.layout.margin.r) / (16 // rows)
        assert frame_px >= min(40, side)


def _rgba(color: str) -> tuple[np.ndarray, float]:
    *rgb, alpha = (float(v) for v in color[color.index("(") + 1:-1].split(","))
    return np.array(rgb), alpha


def _lab(rgb, deficiency=None) -> np.ndarray:
    """sRGB (0..255) -> CIELAB, optionally as seen with a colour-vision deficiency (Machado et al. 2009, severity 1)."""
    c = np.asarray(rgb, float) / 255
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)  # linear RGB
    if deficiency is not None:
        c = np.clip(np.array(MACHADO[deficiency]) @ c, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ c
    f = np.cbrt(np.maximum(xyz / [0.95047, 1.0, 1.08883], 0.008856 ** 3))
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


MACHADO = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def test_heatmap_colours_stand_out_from_the_tasks_colours():
    """The strongest heat, at the explorer's default opacity 0.6 over an order flash or a recall
    square, changes its colour by more than 25 CIELAB units (the old red on the red flash: 7)."""
    from labkit.data.tasks import order, recall

    task_colours = [order.RED, order.BLUE, *list(recall.PALETTE.values())[:4]]
    for scale in (viz.saliency.ABS_SCALE, viz.saliency.SIGNED_SCALE):
        for _, color in (scale[0], scale[-1]):
            rgb, alpha = _rgba(color)
            if alpha < 1:
                continue
            for data in task_colours:
                shown = 0.4 * np.array(data) + 0.6 * rgb
                assert np.linalg.norm(_lab(shown) - _lab(data)) > 25, (color, data)


def test_heatmap_colours_are_colour_blind_safe():
    """|attribution|: one hue whose lightness falls steadily with the value (readable by lightness
    alone); signed: its two ends stay far apart with each common colour-vision deficiency."""
    lightness = [_lab(_rgba(c)[0])[0] for _, c in viz.saliency.ABS_SCALE]
    assert all(a > b for a, b in zip(lightness, lightness[1:]))
    low, high = (_rgba(viz.saliency.SIGNED_SCALE[k][1])[0] for k in (0, -1))
    for deficiency in MACHADO:
        assert np.linalg.norm(_lab(low, deficiency) - _lab(high, deficiency)) > 40, deficiency


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
