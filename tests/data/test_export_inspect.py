"""Writing a task as real media (`data.write_dataset`, the `labkit data make` path) and `inspect` of a folder."""
import json

import numpy as np
import pandas as pd
import pytest

from labkit import data
from labkit.data.export import MARKER, write_video


@pytest.mark.parametrize("fmt,tolerance", [("mp4", 4), ("avi", 6), ("mkv", 2), ("webm", 5), ("png", 0)])
def test_written_task_reads_back_with_its_labels(tmp_path, fmt, tolerance):
    ds = data.synthetic("order", n=6, frames=8, size=32, seed=1, gap=3)
    table = data.write_dataset(ds, tmp_path / "out", fmt, progress=False)
    assert list(table.columns) == ["path", "label"] and len(table) == 6
    back = data.folder(tmp_path / "out", frames=8, size=32, progress=False)
    assert sorted(back.classes) == sorted(ds.classes)
    for i in range(len(ds)):
        j = next(k for k, p in enumerate(back.paths) if p.endswith(table.path[i]))
        assert back.classes[back[j][1]] == ds.classes[ds[i][1]]
        assert np.abs(back[j][0].astype(int) - ds[i][0]).mean() <= tolerance
    via_manifest = data.manifest(tmp_path / "out" / "manifest.csv", frames=8, size=32, progress=False)
    assert len(via_manifest) == 6


def test_manifest_keeps_groups(tmp_path):
    ds = data.synthetic("digits", n=4, frames=4, size=16, seed=0)
    table = data.write_dataset(ds, tmp_path / "o", "png", progress=False)
    assert list(table.group) == [str(g) for g in ds.groups]
    assert list(pd.read_csv(tmp_path / "o" / "manifest.csv").columns) == ["path", "label", "group"]


def test_a_second_write_needs_overwrite_and_replaces_only_what_was_written(tmp_path):
    out = tmp_path / "o"
    data.write_dataset(data.synthetic("order", n=8, frames=4, size=16, gap=2), out, "png", progress=False)
    (out / "notes.md").write_text("mine")
    smaller = data.synthetic("order", n=4, frames=4, size=16, gap=2, seed=1)
    with pytest.raises(ValueError, match="is not empty; choose a new folder or pass overwrite=True"):
        data.write_dataset(smaller, out, "png", progress=False)
    data.write_dataset(smaller, out, "png", progress=False, overwrite=True)
    assert len(data.folder(out, frames=4, size=16, progress=False)) == 4 and (out / "notes.md").read_text() == "mine"


def test_the_marker_lists_every_file_written_and_nothing_else(tmp_path):
    out = tmp_path / "o"
    data.write_dataset(data.synthetic("order", n=3, frames=2, size=16, gap=1), out, "png", progress=False)
    listed = [json.loads(line) for line in (out / MARKER).read_text().splitlines()]
    assert sorted(listed) == sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()
                                    and p.name != MARKER)
    assert len(listed) == 3 * 2 + 1  # two frames a clip, and manifest.csv


def test_overwrite_deletes_only_what_the_marker_lists(tmp_path):
    out = tmp_path / "o"
    data.write_dataset(data.synthetic("order", n=4, frames=2, size=16, gap=1), out, "mkv", progress=False)
    clip = next(out.glob("*/*.mkv"))
    mine = clip.parent / "mine.mkv"
    mine.write_bytes(clip.read_bytes())  # a user's own clip in a class folder labkit made
    (tmp_path / "outside.txt").write_text("x")
    with open(out / MARKER, "a") as f:  # a marker edited to reach out of the folder is not obeyed
        f.write(json.dumps("../outside.txt") + "\n" + json.dumps(str(tmp_path / "outside.txt")) + "\n")
    data.write_dataset(data.synthetic("order", n=2, frames=2, size=16, gap=1), out, "mkv", progress=False,
                       overwrite=True)
    assert mine.exists() and (tmp_path / "outside.txt").exists()
    assert len(list(out.glob("*/*.mkv"))) == 3  # two new clips and the user's


def test_overwrite_refuses_a_folder_without_the_marker(media, tmp_path):
    out = tmp_path / "mine"  # a hand-written manifest.csv naming the user's clips
    media.encode(out / "up" / "a.mp4", media.ramp_clip(4, 16))
    pd.DataFrame({"path": ["up/a.mp4", "up"], "label": ["up", "up"]}).to_csv(out / "manifest.csv", index=False)
    with pytest.raises(ValueError, match=r"is not empty and labkit did not write it \(it has no .labkit-dataset"):
        data.write_dataset(data.synthetic("order", n=2, frames=2, size=16, gap=1), out, "png", overwrite=True,
                           progress=False)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == ["manifest.csv", "up", "up/a.mp4"]


@pytest.mark.parametrize("fps", [0, -5, float("nan"), "8"])
def test_a_bad_fps_is_refused_before_anything_is_written(tmp_path, fps):
    with pytest.raises(ValueError, match="fps=.*frames per second must be a positive number"):
        data.write_dataset(data.synthetic("order", n=2, frames=2, size=16, gap=1), tmp_path / "o", fps=fps,
                           progress=False)
    assert not (tmp_path / "o").exists()
    with pytest.raises(ValueError, match="frames per second must be a positive number"):
        write_video(tmp_path / "x.mp4", np.zeros((2, 16, 16, 3), np.uint8), fps=fps)
    assert not (tmp_path / "x.mp4").exists()


def test_a_write_that_fails_leaves_nothing(tmp_path):
    clips = [np.zeros((2, 16, 16, 3), np.uint8)] * 2 + [np.zeros((2, 15, 15, 3), np.uint8)]
    ds = data.ClipDataset(clips, [0, 1, 0], ["a", "b"], "odd")  # mp4 needs even sizes: the third clip fails
    with pytest.raises(ValueError, match="needs an even frame size"):
        data.write_dataset(ds, tmp_path / "o", "mp4", progress=False)
    assert not (tmp_path / "o").exists()


def test_odd_sizes_need_a_lossless_format(tmp_path):
    with pytest.raises(ValueError, match="needs an even frame size.*mkv/png"):
        write_video(tmp_path / "x.mp4", np.zeros((2, 15, 15, 3), np.uint8))
    write_video(tmp_path / "x.mkv", np.zeros((2, 15, 15, 3), np.uint8))


def test_inspect_reports_per_class_and_problems(media, tmp_path):
    root = tmp_path / "v"
    media.encode(root / "run" / "a.mp4", media.ramp_clip(10, 32))
    media.encode(root / "run" / "b.mp4", media.ramp_clip(14, 48))
    media.frame_folder(root / "sit" / "c", media.ramp_clip(6, 16))
    (root / "sit" / "junk.txt").write_text("x")
    (root / "run" / "broken.avi").write_bytes(b"RIFF0000AVI junk")
    report = data.inspect(root)
    by_class = report.classes.set_index("class")
    assert by_class.loc["run", "clips"] == 2 and by_class.loc["run", "problems"] == 1
    assert by_class.loc["run", "frames_min"] == 10 and by_class.loc["run", "frames_max"] == 14
    assert by_class.loc["run", "resolutions"] == "32x32, 48x48" and by_class.loc["sit", "resolutions"] == "16x16"
    assert sorted(p.rsplit("/", 1)[-1] for p in report.problems.path) == ["broken.avi", "junk.txt"]
    clip = report.clips.set_index(report.clips.path.str.rsplit("/", n=1).str[-1])
    assert clip.loc["a.mp4", "fps"] == 10 and clip.loc["c", "kind"] == "frames"
