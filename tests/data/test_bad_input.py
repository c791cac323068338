"""Every bad input named in the issue: a clear error naming the file and the fix, or with
on_error="skip" the input left out and listed in ds.report. Never a silent wrong label."""
import os

import pandas as pd
import pytest

from labkit import data


@pytest.fixture
def good(media, tmp_path):
    """A folder with one good clip per class, to which each test adds one bad input."""
    root = tmp_path / "v"
    media.encode(root / "a" / "ok.mp4", media.ramp_clip(8, 16))
    media.frame_folder(root / "b" / "ok", media.ramp_clip(8, 16))
    return root


def _check(root, match, path_end, **kw):
    with pytest.raises(data.DataError, match=match) as err:
        data.folder(root, frames=8, size=16, progress=False, **kw)
    assert err.value.path.endswith(path_end) and "Fix:" in str(err.value)
    ds = data.folder(root, frames=8, size=16, progress=False, on_error="skip", **kw)
    assert len(ds.report) == 1 and ds.report.path[0].endswith(path_end) and "Fix:" in ds.report.problem[0]
    return ds


def test_corrupt_video(good):
    (good / "a" / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    ds = _check(good, "cannot be decoded", "broken.mp4")
    assert len(ds) == 2 and ds.classes == ["a", "b"]


def test_truncated_video(media, good):
    path = media.encode(good / "a" / "cut.mkv", media.ramp_clip(40, 16), "ffv1")
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    _check(good, "is truncated: its header promises 40 frames but only", "cut.mkv")


def test_truncated_mp4_missing_its_index(media, good):
    path = media.encode(good / "a" / "cut.mp4", media.ramp_clip(40, 16))
    path.write_bytes(path.read_bytes()[:-200])  # the moov index is at the end
    _check(good, "cannot be decoded", "cut.mp4")


def test_unreadable_image(media, good):
    folder = media.frame_folder(good / "b" / "bad", media.ramp_clip(8, 16))
    (folder / "frame3.png").write_bytes(b"not a png")
    _check(good, "not a readable image", "frame3.png")


def test_empty_class_folder(good):
    (good / "c").mkdir()
    ds = _check(good, "class folder has no clips", "/c")
    assert ds.classes == ["a", "b"]  # no class without clips, labels still right
    assert [ds.classes[label] for label in ds.labels] == [p.split("/")[-2] for p in ds.paths]


def test_too_few_frames(media, good):
    media.encode(good / "a" / "short.mp4", media.ramp_clip(3, 16))
    _check(good, "has 3 frames, fewer than frames=8.*frames=None", "short.mp4")


def test_non_media_file(good):
    (good / "a" / "labels.txt").write_text("hello")
    _check(good, "is not a video", "labels.txt")


def test_empty_frame_folder(good):
    (good / "b" / "nothing").mkdir()
    _check(good, "frame folder holds no images", "nothing")


def test_missing_paths(tmp_path, media):
    with pytest.raises(FileNotFoundError, match="nope: no such folder"):
        data.folder(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="list.csv: no such manifest"):
        data.manifest(tmp_path / "list.csv")
    media.encode(tmp_path / "here.mp4", media.ramp_clip(8, 16))
    pd.DataFrame({"path": ["here.mp4", "gone.mp4"], "label": ["x", "y"]}).to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(data.DataError, match="gone.mp4: listed on line 3 of m.csv does not exist"):
        data.manifest(tmp_path / "m.csv", frames=8, size=16, progress=False)
    ds = data.manifest(tmp_path / "m.csv", frames=8, size=16, progress=False, on_error="skip")
    assert len(ds) == 1 and ds.classes == ["x"] and ds.report.path[0].endswith("gone.mp4")


def test_layout_mistakes_are_explained(tmp_path, media):
    media.encode(tmp_path / "flat" / "x.mp4", media.ramp_clip(8, 16))
    with pytest.raises(data.DataError, match="has no class folders .*1 media files directly.*<root>/<class>"):
        data.folder(tmp_path / "flat")
    pd.DataFrame({"file": ["x.mp4"]}).to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(data.DataError, match=r"lacks column\(s\) \['label', 'path'\]"):
        data.manifest(tmp_path / "m.csv")
    with pytest.raises(ValueError, match="on_error='ignore'"):
        data.folder(tmp_path / "flat", on_error="ignore")


def test_group_pattern_that_does_not_match(media, good):
    media.encode(good / "a" / "subject1_x.mp4", media.ramp_clip(8, 16))
    with pytest.raises(data.DataError, match="ok.mp4: file name does not match group_pattern"):
        data.folder(good, frames=8, size=16, group_pattern=r"^subject\d+", progress=False)
    ds = data.folder(good, frames=8, size=16, group_pattern=r"^subject\d+", progress=False, on_error="skip")
    assert len(ds.report) == 2 and list(ds.groups) == ["subject1"]


def test_nothing_loadable(tmp_path):
    (tmp_path / "v" / "a").mkdir(parents=True)
    (tmp_path / "v" / "a" / "x.mp4").write_bytes(b"junk")
    with pytest.raises(data.DataError, match="no clip could be loaded .1 skipped, e.g. .*x.mp4: cannot be decoded"):
        data.folder(tmp_path / "v", on_error="skip", progress=False)


def test_loader_errors_name_the_file_not_a_worker(media, good):
    ds = data.folder(good, frames=8, size=16, in_memory=False, progress=False)
    for f in ds._clips.files:  # the cache is cleared while the dataset is in use
        os.remove(f)
    with pytest.raises(FileNotFoundError, match="ok.*load the dataset again"):
        next(iter(data.make_loader(ds, 2)))
