"""Your own data: real videos written with PyAV in the test, frame folders, manifests, groups,
temporal sampling, variable lengths, file-backed loading."""
import numpy as np
import pandas as pd
import pytest

from labkit import data
from labkit.data.decode import sample_indices


@pytest.mark.parametrize("name,codec,tolerance", [
    ("clip.mp4", "libx264", 4), ("clip.avi", "mpeg4", 6), ("clip.mkv", "ffv1", 2), ("clip.mov", "libx264", 4)])
def test_videos_read_back_close_to_what_was_written(media, tmp_path, name, codec, tolerance):
    clips = [media.ramp_clip(12, 32, seed) for seed in range(2)]
    for cls, clip in zip(["jump", "walk"], clips):
        media.encode(tmp_path / "videos" / cls / name, clip, codec)
    ds = data.folder(tmp_path / "videos", frames=12, size=32, progress=False)
    assert ds.classes == ["jump", "walk"] and list(ds.labels) == [0, 1]
    assert ds.paths[0].endswith(f"jump/{name}")
    for i, clip in enumerate(clips):
        got = ds[i][0]
        assert got.shape == (12, 32, 32, 3) and got.dtype == np.uint8
        assert np.abs(got.astype(int) - clip).mean() < tolerance


def test_uniform_temporal_sampling_and_resize(media, tmp_path):
    clip = media.ramp_clip(12, 48)
    media.encode(tmp_path / "v" / "a" / "x.mp4", clip)
    ds = data.folder(tmp_path / "v", frames=4, size=24, progress=False, cache_dir=False)
    got = ds[0][0]
    assert got.shape == (4, 24, 24, 3)
    assert list(sample_indices(12, 4)) == [1, 4, 7, 10]  # the centre of each quarter
    frame_ids = np.round((got.reshape(4, -1).mean(1) - clip[0].mean()) / 15).astype(int)
    assert list(frame_ids) == [1, 4, 7, 10]


def test_frame_folders_in_natural_order(media, tmp_path):
    clip = media.ramp_clip(11, 16)
    names = [f"frame{t}.png" for t in range(11)]  # frame10 must come after frame9, not after frame1
    media.frame_folder(tmp_path / "f" / "wave" / "take1", clip, names)
    (tmp_path / "f" / "wave" / "take1" / "notes.json").write_text("{}")  # non-images in a frame folder are ignored
    ds = data.folder(tmp_path / "f", frames=None, size=16, progress=False)
    assert ds[0][0].shape == (11, 16, 16, 3)
    assert np.array_equal(ds[0][0], clip)  # png is lossless and the size unchanged


def test_frames_none_keeps_every_frame_with_lengths(media, tmp_path):
    media.encode(tmp_path / "v" / "a" / "short.mp4", media.ramp_clip(6, 16))
    media.encode(tmp_path / "v" / "a" / "long.mp4", media.ramp_clip(10, 16))
    media.frame_folder(tmp_path / "v" / "b" / "f1", media.ramp_clip(8, 16))
    ds = data.folder(tmp_path / "v", frames=None, size=16, progress=False)
    assert sorted(ds.lengths.tolist()) == [6, 8, 10] and ds.clip_shape[0] is None
    assert [len(ds[i][0]) for i in range(3)] == list(ds.lengths)
    x, _, lengths = next(iter(data.make_loader(ds, 3)))
    assert x.shape[1] == 10 and sorted(lengths.tolist()) == [6, 8, 10]


def test_center_crop_keeps_the_middle(media, tmp_path):
    clip = np.zeros((4, 32, 64, 3), np.uint8)
    clip[:, :, 16:48] = 200  # a bright centre square in a wide frame
    media.encode(tmp_path / "v" / "a" / "wide.mp4", clip)
    whole = data.folder(tmp_path / "v", frames=4, size=16, progress=False)[0][0]
    crop = data.folder(tmp_path / "v", frames=4, size=16, crop="center", progress=False)[0][0]
    assert crop[:, 2:-2, 2:-2].mean() > 190 and whole[:, :, :3].mean() < 20


def test_group_pattern_and_classes_order(media, tmp_path):
    for subj in ("s1", "s2", "s10"):
        for cls in ("b", "a"):
            media.encode(tmp_path / "v" / cls / f"{subj}_take{cls}.mp4", media.ramp_clip(4, 16))
    ds = data.folder(tmp_path / "v", frames=4, size=16, group_pattern=r"^(?P<group>s\d+)_", classes=["b", "a"],
                     progress=False)
    assert ds.classes == ["b", "a"]
    assert sorted(set(ds.groups)) == ["s1", "s10", "s2"]
    assert all(p.split("/")[-1].startswith(g + "_") for p, g in zip(ds.paths, ds.groups))
    assert ds.paths[0].split("/")[-2] == "a" and ds.labels[0] == 1


def test_manifest_with_groups_and_relative_paths(media, tmp_path):
    media.encode(tmp_path / "clips" / "one.mp4", media.ramp_clip(5, 16))
    media.frame_folder(tmp_path / "clips" / "two", media.ramp_clip(5, 16))
    media.encode(tmp_path / "clips" / "three.avi", media.ramp_clip(5, 16), "mpeg4")
    media.encode(tmp_path / "clips" / "four.mp4", media.ramp_clip(5, 16))  # each clip once: see test_manifests
    pd.DataFrame({"path": ["clips/one.mp4", "clips/two", "clips/three.avi", "clips/four.mp4"],
                  "label": ["10", "2", "10", "2"], "group": ["p1", "p1", "p2", ""]}).to_csv(tmp_path / "list.csv",
                                                                                        index=False)
    ds = data.manifest(tmp_path / "list.csv", frames=5, size=16, progress=False)
    assert ds.classes == ["2", "10"]  # natural order
    assert list(ds.labels) == [1, 0, 1, 0] and list(ds.groups[:3]) == ["p1", "p1", "p2"]
    assert ds.groups[3] == ds.paths[3]  # an empty group cell: a group of its own
    assert ds.recipe["kind"] == "manifest" and ds.recipe["csv"] == str(tmp_path / "list.csv")


def test_file_backed_loading_reads_the_cache(media, tmp_path, isolated_cache):
    media.encode(tmp_path / "v" / "a" / "x.mp4", media.ramp_clip(6, 16))
    mem = data.folder(tmp_path / "v", frames=6, size=16, progress=False)
    lazy = data.folder(tmp_path / "v", frames=6, size=16, in_memory=False, progress=False)
    assert np.array_equal(mem[0][0], lazy[0][0])
    assert type(lazy._clips).__name__ == "NpyClips"
    with pytest.raises(ValueError, match="needs a cache"):
        data.folder(tmp_path / "v", frames=6, size=16, in_memory=False, cache_dir=False, progress=False)


@pytest.mark.parametrize("name,codec,kind", [
    ("vfr.mkv", "libx264", "vfr"), ("vfr.webm", "libvpx-vp9", "vfr"), ("vfr.mp4", "libx264", "vfr"),
    ("long_audio.mkv", "libx264", "audio"), ("long_audio.webm", "libvpx-vp9", "audio"),
    ("long_audio.mp4", "libx264", "audio")])
def test_frame_counts_come_from_decoding(media, tmp_path, name, codec, kind):
    """Valid files the header would miscount: a variable frame rate (12 frames over 2.64 s, at
    an average 25 fps the header implies 66) or an audio track three times longer than the video."""
    clip = media.ramp_clip(12, 32)
    pts_ms = np.cumsum([0] + [40 if t % 2 else 400 for t in range(11)]) if kind == "vfr" else None
    media.encode(tmp_path / "v" / "a" / name, clip, codec, fps=25, pts_ms=pts_ms,
                 audio_s=1.5 if kind == "audio" else 0.0)
    ds = data.folder(tmp_path / "v", frames=12, size=32, progress=False, cache_dir=False)
    assert len(ds) == 1 and ds.report.empty
    frame_ids = np.round((ds[0][0].reshape(12, -1).mean(1) - clip[0].mean()) / 15).astype(int)
    assert list(frame_ids) == list(range(12))  # every frame, in order
    assert data.inspect(tmp_path / "v").clips.frames[0] == 12
