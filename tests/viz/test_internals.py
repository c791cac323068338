"""Figures of what a network computes: feature maps, keypoint tracks, temporal states over time."""
import numpy as np
import pytest

from labkit import explain, viz


@pytest.fixture(scope="module")
def inside(tiny, tiny_order):
    return explain.look_inside(tiny("default", num_classes=2, cell="lstm"), tiny_order[2][0])


def test_colorize_spans_viridis_per_channel():
    rgb = viz.internals.colorize(np.array([[0.0, 5.0, 10.0], [1.0, 1.5, 2.0]]), np.array([[0.0], [1.0]]),
                                 np.array([[10.0], [2.0]]))
    assert rgb.shape == (2, 3, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb[0, 0], rgb[1, 0])  # each row's low end: viridis' first colour
    np.testing.assert_array_equal(rgb[0, 2], rgb[1, 2])
    assert tuple(rgb[0, 0]) == (68, 1, 84) and tuple(rgb[0, 2]) == (253, 231, 37)


def test_feature_maps_one_picture_per_frame(inside):
    maps = inside.block_maps[1]  # (8, 8, 4, 4)
    fig = viz.feature_maps(maps, frame=2, channels=[0, 3], clip=inside.clip, title="blocks.1")
    assert [t.type for t in fig.data] == ["image"] and len(fig.frames) == 8
    assert [a.text for a in fig.layout.annotations] == ["frame", "ch 0", "ch 3"]
    assert fig.data[0].source == fig.frames[2].data[0].source != fig.frames[3].data[0].source
    assert fig.layout.width <= 900 and not fig.layout.sliders
    default = viz.feature_maps(maps, controls=True)
    assert len(default.layout.annotations) == 8 and len(default.layout.sliders[0].steps) == 8
    with pytest.raises(ValueError, match=r"channels \[9\] are not among this block's 8 channels"):
        viz.feature_maps(maps, channels=[9])
    with pytest.raises(ValueError, match="outside the clip's 8 frames"):
        viz.feature_maps(maps, frame=8)


def test_keypoint_tracks_follow_the_frame(inside):
    k = inside.keypoints
    fig = viz.keypoint_tracks(k, inside.clip, frame=1, channels=[0, 2])
    assert fig.data[0].type == "image" and len(fig.data) == 1 + 3 * 2 + 3
    dots, x_cursor, y_cursor = fig.data[-3:]
    px, py = k.in_pixels(inside.clip.shape[1:3])
    np.testing.assert_allclose(dots.x, px[1, [0, 2]])
    np.testing.assert_allclose(dots.y, py[1, [0, 2]])
    assert list(x_cursor.x) == list(y_cursor.x) == [1, 1]
    assert list(fig.frames[5].traces) == [0, 7, 8, 9] and list(fig.frames[5].data[2].x) == [5, 5]
    np.testing.assert_allclose(fig.data[2].y, k.x[:, 0])  # channel 0's x over time
    strongest = viz.keypoint_tracks(k, inside.clip)
    assert len(strongest.data) == 1 + 3 * 6 + 3  # the six that fire hardest
    with pytest.raises(ValueError, match="cover 8 frames but the clip has 4"):
        viz.keypoint_tracks(k, inside.clip[:4])


def test_state_heatmaps_pick_their_scale_by_kind(inside):
    hidden = viz.state_heatmap(inside.series("hidden state h"), frame=3)
    z = np.asarray(hidden.data[0].z)
    assert z.shape == (8, 8)  # units x frames
    assert hidden.data[0].zmin == -hidden.data[0].zmax and hidden.data[0].colorscale[0][1] == "rgb(84,48,5)"
    assert list(hidden.data[1].x) == [3, 3] and len(hidden.frames) == 8
    assert list(hidden.frames[6].data[0].x) == [6, 6] and hidden.layout.title.text == "hidden state h"
    gate = viz.state_heatmap(inside.series("forget gate f"))
    assert (gate.data[0].zmin, gate.data[0].zmax) == (0, 1) and list(gate.data[1].x) == []
    weights = explain.Series("attention weights", np.full((5, 5), 0.2), "weights")
    w = viz.state_heatmap(weights, frame=2)
    assert list(w.data[1].y) == [2, 2] and w.layout.yaxis.title.text == "frame reading"  # a row: what frame 2 reads
    with pytest.raises(ValueError, match=r"a series is \(T, K\)"):
        viz.state_heatmap(np.zeros(4))
