"""Manifest rows that would make a dataset silently wrong: a clip listed twice (it could land in
both train and validation), labels with spaces around them (two classes for one), one clip under
two labels. Each is an error naming the clip and the lines, or with on_error="skip" a report."""
import pandas as pd
import pytest

from labkit import data


@pytest.fixture
def clips(media, tmp_path):
    """Four short clips in tmp_path/clips: one.mp4 .. four.mp4."""
    for i, name in enumerate(["one", "two", "three", "four"]):
        media.encode(tmp_path / "clips" / f"{name}.mp4", media.ramp_clip(4, 16, seed=i))
    return tmp_path


def _manifest(root, paths, labels, **columns):
    pd.DataFrame({"path": paths, "label": labels, **columns}).to_csv(root / "m.csv", index=False)
    return root / "m.csv"


def _load(csv, **kw):
    return data.manifest(csv, frames=4, size=16, progress=False, cache_dir=False, **kw)


def test_a_clip_listed_twice_is_reported_and_kept_once(clips):
    csv = _manifest(clips, ["clips/one.mp4", "clips/two.mp4", "./clips/one.mp4", "clips/three.mp4", "clips/four.mp4"],
                    ["up", "down", "up", "down", "up"])
    with pytest.raises(data.DataError, match=r"one.mp4: is listed 2 times in m.csv \(lines 2, 4\).*train and "
                                             r"validation. Fix: delete the extra lines"):
        _load(csv)
    ds = _load(csv, on_error="skip")
    assert len(ds) == 4 and len(set(ds.paths)) == 4 and len(ds.report) == 1
    train, val = data.split(ds, (0.5, 0.5), seed=0)
    assert not set(train.paths) & set(val.paths)
    assert data.inspect(csv).problems.problem[0].startswith("is listed 2 times")


def test_spaces_around_labels_are_stripped_with_a_warning(clips):
    csv = _manifest(clips, ["clips/one.mp4", "clips/two.mp4", "clips/three.mp4", "clips/four.mp4"],
                    ["up ", " up", "up", "down"], group=["p1", " p1", "p2", "p2 "])
    with pytest.warns(UserWarning, match=r"m.csv: spaces around labels/groups were removed, so they count as "
                                         r"one: 'up ' \(line 2\), ' up' \(line 3\)"):
        ds = _load(csv)
    assert ds.classes == ["down", "up"] and list(ds.labels) == [1, 1, 1, 0]
    assert list(ds.groups) == ["p1", "p1", "p2", "p2"] and ds.report.empty


def test_one_clip_under_two_labels_is_an_error_naming_both_lines(clips):
    csv = _manifest(clips, ["clips/one.mp4", "clips/two.mp4", "clips/one.mp4"], ["up", "down", "down"])
    with pytest.raises(data.DataError, match=r"one.mp4: is listed under 2 labels in m.csv: 'up' on line 2 and "
                                             r"'down' on line 4. Fix: keep the line with the right label"):
        _load(csv)
    ds = _load(csv, on_error="skip")  # neither label can be trusted: the clip is left out
    assert [p.rsplit("/", 1)[-1] for p in ds.paths] == ["two.mp4"] and ds.report.path[0].endswith("one.mp4")
