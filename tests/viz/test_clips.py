"""Clip figures: strips of frames and the animated player."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from labkit import viz


@pytest.fixture
def clip():
    """A 16-frame 64x64 clip: a bright square moving right over a flat background."""
    c = np.full((16, 64, 64, 3), 60, np.uint8)
    for t in range(16):
        c[t, 20:30, 2 + 3 * t:12 + 3 * t] = (250, 220, 40)
    return c


def test_clip_strip_one_image_per_clip_with_a_tick_per_frame(clip):
    fig = viz.clip_strip(np.stack([clip, clip[::-1]]), titles=["right", "left"], every=2)
    assert isinstance(fig, go.Figure)
    assert [t.type for t in fig.data] == ["image", "image"]
    assert all(t.source.startswith("data:image/png;base64,") for t in fig.data)
    assert list(fig.layout.xaxis.ticktext) == [f"t={k}" for k in range(0, 16, 2)]
    assert list(fig.layout.yaxis.ticktext) == ["right", "left"]


def test_clip_strip_accepts_grey_clips_and_rejects_bad_shapes(clip):
    assert len(viz.clip_strip(clip[..., 0]).data) == 1  # (T, H, W) grey
    with pytest.raises(ValueError, match="uint8"):
        viz.clip_strip(clip.astype(np.float32))
    with pytest.raises(ValueError, match="clips must be"):
        viz.clip_strip(clip[0, 0])
    with pytest.raises(ValueError, match="titles"):
        viz.clip_strip(clip, titles=["a", "b"])


def test_clip_player_has_a_frame_per_time_step_a_slider_and_play(clip):
    fig = viz.clip_player(clip, fps=10)
    assert [f.name for f in fig.frames] == [str(t) for t in range(16)]
    assert len({f.data[0].source for f in fig.frames}) == 16  # every frame differs
    assert len(fig.layout.sliders[0].steps) == 16
    labels = [b.label for b in fig.layout.updatemenus[0].buttons]
    assert labels == ["▶", "❚❚"]
    assert fig.layout.updatemenus[0].buttons[0].args[1]["frame"]["duration"] == 100


def test_figures_stay_light(clip):
    """PNG frames keep a 16-frame clip far below the ~600 kB of a nested list of pixels."""
    assert len(viz.clip_player(clip).to_json()) < 60_000
    json.loads(viz.clip_strip(clip).to_json())


def test_clips_of_different_lengths_share_a_strip(clip):
    fig = viz.clip_strip([clip, clip[:5]], titles=["16 frames", "5 frames"])
    assert len(fig.data) == 2 and len(fig.layout.xaxis.tickvals) == 16


def test_class_examples_has_a_row_per_class(tiny_direction):
    fig = viz.class_examples(tiny_direction, per_class=2, every=2)
    assert list(fig.layout.yaxis.ticktext) == [c for c in tiny_direction.classes for _ in range(2)]
    assert len(fig.layout.xaxis.tickvals) == 4  # 8 frames, every 2nd


def _plot_px(fig) -> float:
    return fig.layout.width - fig.layout.margin.l - fig.layout.margin.r


def test_a_16_frame_strip_fits_a_notebook_output(clip):
    """JupyterLab's output area is ~968 px wide: eight 16-frame clips stay in one row each, at most
    900 px wide, and every frame at least 40 px wide."""
    fig = viz.clip_strip(np.stack([clip] * 8), titles=[f"class {k}" for k in range(8)], title="one clip per class")
    assert fig.layout.width <= viz.clips.OUTPUT_WIDTH == 900
    assert len(fig.data) == 8 and _plot_px(fig) / 16 >= 40
    assert list(fig.layout.xaxis.ticktext) == [f"t={k}" for k in range(16)] and fig.layout.xaxis.showticklabels


def test_a_clip_too_long_for_one_row_wraps_with_every_frame_labelled(clip):
    long = np.concatenate([clip, clip, clip[:8]])  # 40 frames of 64 px: 40 px each would not fit
    fig = viz.clip_strip([long, clip], titles=["40 frames", "16 frames"])
    assert fig.layout.width <= 900 and fig.layout.xaxis.showticklabels is False
    per_row = len(fig.layout.xaxis.tickvals)
    assert (fig.layout.width - fig.layout.margin.l - fig.layout.margin.r) / per_row >= 40
    rows = -(-40 // per_row) + -(-16 // per_row)
    assert len(fig.data) == rows  # one go.Image per row; the short clip's rows end with it
    assert list(fig.layout.yaxis.ticktext) == ["40 frames"] + [""] * (-(-40 // per_row) - 1) + \
        ["16 frames"] + [""] * (-(-16 // per_row) - 1)
    assert [a.text for a in fig.layout.annotations] == [f"t={k}" for k in range(40)] + [f"t={k}" for k in range(16)]
    assert len(viz.clip_strip(clip, columns=4).data) == 4  # or wrap at a chosen width


def test_narrow_figures_keep_their_title_and_label_frames_by_name(clip):
    title = "frame 0 only: the direction is invisible"
    one = viz.clip_strip(clip[None, :1].repeat(3, axis=0), titles=["a", "b", "c"], title=title)
    assert one.layout.width >= viz.clips.text_px(title, 17)  # 160 px before: the title was cut
    firsts = viz.clip_strip(np.stack([clip[0], clip[5], clip[9]]), frame_labels=["left", "up", "down"], title=title)
    assert list(firsts.layout.xaxis.ticktext) == ["left", "up", "down"] and firsts.layout.width <= 900
    with pytest.raises(ValueError, match="frame_labels has 2 entries for 3 frames"):
        viz.clip_strip(np.stack([clip[0], clip[5], clip[9]]), frame_labels=["a", "b"])
