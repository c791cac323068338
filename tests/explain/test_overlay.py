"""Exported explanations decode back (PyAV / Pillow) to the clip's frame count and size."""
from types import SimpleNamespace

import av
import numpy as np
import pytest
from PIL import Image

from labkit import explain
from labkit.explain import export
from labkit.explain.overlay import overlay_frames


@pytest.fixture(scope="module")
def explained(gru_model, clips):
    attr = explain.attribute(gru_model, clips[:2], method="saliency")
    return clips[:2], attr  # (2, 6, 32, 32, 3)


def test_mp4_and_gif_decode_back_frame_for_frame(explained, tmp_path):
    clips, attr = explained
    T, H, W = clips.shape[1:4]
    mp4 = export(clips, attr, tmp_path / "x.mp4", index=1, scale=3)
    with av.open(str(mp4)) as f:
        frames = [fr.to_ndarray(format="rgb24") for fr in f.decode(video=0)]
    bar = max(8, int(0.18 * H * 3))
    bar += (H * 3 + bar) % 2
    assert len(frames) == T and frames[0].shape == (H * 3 + bar, W * 3, 3)
    gif = export(clips[1], attr, tmp_path / "x.gif", index=1, scale=3)
    with Image.open(gif) as img:
        assert img.n_frames == T and img.size == (W * 3, H * 3 + bar)


def test_a_still_clip_with_flat_scores_keeps_every_frame_in_a_gif(tmp_path):
    """Identical frames and zero importance: the playhead alone keeps the GIF's frames apart
    (Pillow merges identical consecutive frames into one longer frame)."""
    T = 6
    clip = np.full((T, 8, 8, 3), 90, np.uint8)
    attr = SimpleNamespace(abs_maps=np.zeros((1, T, 8, 8)), frame_scores=np.zeros((1, T)))
    with Image.open(export(clip, attr, tmp_path / "still.gif", scale=2)) as img:
        assert img.n_frames == T


def test_the_overlay_shows_the_map_and_the_bar_follows_the_frame():
    clip = np.zeros((3, 4, 4, 3), np.uint8)
    maps = np.zeros((3, 4, 4))
    maps[1, 0, 0] = 1.0  # all the attribution on one pixel of frame 1
    frames = overlay_frames(clip, maps, np.array([0.0, 1.0, 0.5]), scale=2)
    assert frames[1, 0, 0].sum() > 0 and frames[0, :8].sum() == 0  # only frame 1's pixel lights up
    bars = frames[:, 8:]  # under the frame: bar t highlighted in frame t
    assert not np.array_equal(bars[0], bars[1])


def test_bad_exports_say_what_to_write(explained, tmp_path):
    clips, attr = explained
    with pytest.raises(ValueError, match=".mp4 or .gif"):
        export(clips, attr, tmp_path / "x.avi")
    with pytest.raises(ValueError, match="is a folder"):
        (tmp_path / "d.mp4").mkdir()
        export(clips, attr, tmp_path / "d.mp4")
