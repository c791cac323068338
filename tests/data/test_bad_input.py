"""Every bad input named in the issue: a clear error naming the file and the fix, or with
on_error="skip" the input left out and listed in ds.report. Never a silent wrong label."""
import os
from pathlib import Path

import av
import pandas as pd
import pytest
from PIL import Image

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
    _check(good, "is truncated: its header says the video lasts 4.00 s but its 17 frames decode only to", "cut.mkv")


def test_truncated_video_with_a_longer_audio_track(media, good):
    """The video's own length is not in this header (only the file's, set by the audio), so the
    cut shows as fewer frames than asked for: still a clear error."""
    path = media.encode(good / "a" / "cut.mkv", media.ramp_clip(40, 16), "ffv1", audio_s=5.0)
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(data.DataError, match=r"cut.mkv: has \d+ frames, fewer than frames=40"):
        data.folder(good, frames=40, size=16, progress=False)


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


def _flip_handler_name(path: Path) -> Path:
    """Flip one byte of the mp4 header's handler name, so that its text is no longer UTF-8 (the
    video itself stays whole): PyAV raises UnicodeDecodeError when it reads the metadata."""
    blob = bytearray(path.read_bytes())
    blob[blob.index(b"VideoHandler") + 1] ^= 0xC0
    path.write_bytes(bytes(blob))
    return path


def test_damaged_header_metadata(media, good):
    _flip_handler_name(media.encode(good / "a" / "flipped.mp4", media.ramp_clip(8, 16)))
    _check(good, "has a damaged header: its metadata is not valid text", "flipped.mp4")
    report = data.inspect(good)
    assert list(report.problems.path.str.rsplit("/", n=1).str[-1]) == ["flipped.mp4"]


def test_decompression_bomb(media, good):
    folder = media.frame_folder(good / "b" / "huge", media.ramp_clip(8, 16))
    Image.new("1", (20000, 10000)).save(folder / "frame3.png")  # 200 Mpixels in 24 kB
    _check(good, r"frame3.png: is too large to decode safely \(Image size \(200000000 pixels\)", "frame3.png")
    assert data.inspect(good).problems.path[0].endswith("frame3.png")


def _chmod_works() -> bool:
    """False when running as root, where chmod 000 does not stop reading."""
    probe = Path(os.environ.get("TMPDIR", "/tmp")) / f"labkit-chmod-{os.getpid()}"
    probe.write_text("x")
    probe.chmod(0)
    try:
        return not os.access(probe, os.R_OK)
    finally:
        probe.unlink()


needs_chmod = pytest.mark.skipif(not _chmod_works(), reason="chmod 000 does not stop root from reading")


@needs_chmod
def test_unreadable_class_folder(media, good):
    locked = good / "c"
    media.encode(locked / "x.mp4", media.ramp_clip(8, 16))
    locked.chmod(0)
    try:
        ds = _check(good, r"is unreadable \(permission denied\)", "/c")
        assert ds.classes == ["a", "b"]
    finally:
        locked.chmod(0o755)


@needs_chmod
def test_unreadable_file_is_called_unreadable_not_corrupt(media, good):
    media.encode(good / "a" / "locked.mp4", media.ramp_clip(8, 16)).chmod(0)
    folder = media.frame_folder(good / "b" / "locked", media.ramp_clip(8, 16))
    folder.chmod(0)
    try:
        with pytest.raises(data.DataError, match=r"/locked(.mp4)?: is unreadable \(permission denied\)"):
            data.folder(good, frames=8, size=16, progress=False)
        ds = data.folder(good, frames=8, size=16, progress=False, on_error="skip")
        assert len(ds) == 2 and sorted(ds.report.path.str.rsplit("/", n=2).str[-2:].str.join("/")) == [
            "a/locked.mp4", "b/locked"]
        assert ds.report.problem.str.startswith("is unreadable").all()
        assert not ds.report.problem.str.contains("corrupt").any()
    finally:
        folder.chmod(0o755)


def test_permission_errors_as_root_sees_them(media, good, monkeypatch):
    """The same cases where chmod cannot make them (as root): the OS refuses to open or list."""
    media.encode(good / "a" / "locked.mp4", media.ramp_clip(8, 16))
    media.encode(good / "c" / "x.mp4", media.ramp_clip(8, 16))
    real_open, real_iterdir = av.open, Path.iterdir

    def refuse(path, *args, **kw):
        if str(path).endswith("locked.mp4"):
            raise av.error.PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kw)

    def refuse_listing(self):
        if self.name == "c":
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(av, "open", refuse)
    monkeypatch.setattr(Path, "iterdir", refuse_listing)
    with pytest.raises(data.DataError, match=r"c: is unreadable \(permission denied\)"):
        data.folder(good, frames=8, size=16, progress=False)
    ds = data.folder(good, frames=8, size=16, progress=False, on_error="skip", cache_dir=False)
    assert sorted(p.rsplit("/", 1)[-1] for p in ds.report.path) == ["c", "locked.mp4"]
    assert ds.report.problem.str.startswith("is unreadable (permission denied)").all() and len(ds) == 2


def test_frames_of_different_sizes(media, good):
    folder = media.frame_folder(good / "b" / "mixed", media.ramp_clip(8, 16))
    Image.new("RGB", (24, 16)).save(folder / "frame5.png")
    _check(good, r"mixed: holds frames of different sizes \(frame0.png is 16x16, frame5.png is 24x16\)", "mixed")
    assert data.inspect(good).problems.path[0].endswith("mixed")


def test_os_clutter_is_ignored(media, good):
    for folder in (good, good / "a", good / "b" / "ok"):
        for name in ("Thumbs.db", "desktop.ini", ".DS_Store", "._ok.mp4", "._frame0.png"):
            (folder / name).write_bytes(b"\x00\x05\x16\x07 clutter")
    (good / "__MACOSX" / "a").mkdir(parents=True)  # what unzipping a macOS archive leaves
    (good / "__MACOSX" / "a" / "._ok.mp4").write_bytes(b"\x00\x05\x16\x07")
    ds = data.folder(good, frames=8, size=16, progress=False)
    assert len(ds) == 2 and ds.classes == ["a", "b"] and ds.report.empty
    assert data.inspect(good).problems.empty


def test_media_directly_under_the_root(media, good):
    media.encode(good / "stray.mp4", media.ramp_clip(8, 16))
    (good / "notes.md").write_text("other files at the root (a manifest, a README) are fine")
    ds = _check(good, "lies directly under the root, outside any class folder", "stray.mp4")
    assert len(ds) == 2
    assert list(data.inspect(good).problems.path) == [str(good / "stray.mp4")]
