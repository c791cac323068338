"""ClipDataset and subset: indexing, batches, metadata kept aligned, file-backed storage."""
import numpy as np
import pytest

from labkit import data
from labkit.data.dataset import NpyClips, pad_clips


def test_subset_keeps_everything_aligned():
    ds = data.synthetic("digits", n=30, frames=4, size=32, seed=0)
    idx = [5, 2, 29]
    sub = data.subset(ds, idx)
    assert len(sub) == 3 and sub.classes == ds.classes
    for j, i in enumerate(idx):
        assert np.array_equal(sub[j][0], ds[i][0]) and sub[j][1] == ds[i][1]
        assert np.array_equal(sub.evidence_mask(j), ds.evidence_mask(i))
    assert np.array_equal(sub.groups, ds.groups[idx]) and np.array_equal(sub.index, idx)
    assert np.array_equal(sub.evidence_frames, ds.evidence_frames[idx])
    subsub = data.subset(sub, np.array([False, True, True]))  # masks too; index still points at ds
    assert np.array_equal(subsub.index, [2, 29]) and np.array_equal(subsub[1][0], ds[29][0])
    assert sub._clips is ds._clips  # a view: no copy of the clips


def test_indexing_batch_and_errors():
    ds = data.synthetic("order", n=6, frames=5, size=16, seed=0, gap=2)
    assert np.array_equal(ds[-1][0], ds[5][0])
    with pytest.raises(IndexError, match="out of range"):
        ds[6]
    clips, labels, lengths = ds.batch([0, 3])
    assert clips.shape == (2, 5, 16, 16, 3) and list(lengths) == [5, 5] and list(labels) == [ds[0][1], ds[3][1]]
    with pytest.raises(IndexError):
        data.subset(ds, [7])
    assert "6 clips of 5x16x16x3, 2 classes" in repr(ds)


def test_variable_lengths_pad_with_zeros():
    clips = [np.full((n, 4, 4, 3), 7, np.uint8) for n in (3, 5)]
    ds = data.ClipDataset(clips, [0, 1], ["a", "b"], "var", lengths=[3, 5])
    batch, labels, lengths = ds.batch([0, 1])
    assert batch.shape == (2, 5, 4, 4, 3) and list(lengths) == [3, 5]
    assert (batch[0, 3:] == 0).all() and (batch[0, :3] == 7).all()
    assert ds.clip_shape == (None, 4, 4, 3)
    assert pad_clips(clips)[0].shape == (2, 5, 4, 4, 3)


def test_evidence_is_only_for_synthetic_data():
    ds = data.ClipDataset(np.zeros((2, 3, 4, 4, 3), np.uint8), [0, 1], ["a", "b"], "plain")
    assert ds.evidence_frames is None
    with pytest.raises(ValueError, match="no ground-truth evidence"):
        ds.evidence_mask(0)


def test_constructor_checks_alignment():
    with pytest.raises(ValueError, match="groups has 1 entries for 2 clips"):
        data.ClipDataset(np.zeros((2, 3, 4, 4, 3), np.uint8), [0, 1], ["a", "b"], "x", groups=["g"])
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        data.ClipDataset(np.zeros((2, 3, 4, 4, 3), np.uint8), [0, 2], ["a", "b"], "x")


def test_file_backed_clips_name_the_source_when_the_cache_vanishes(tmp_path):
    f = tmp_path / "c.npy"
    np.save(f, np.ones((2, 4, 4, 3), np.uint8))
    store = NpyClips([str(f)], ["videos/a/clip.mp4"])
    assert store[0].shape == (2, 4, 4, 3)
    f.unlink()
    with pytest.raises(FileNotFoundError, match="videos/a/clip.mp4.*load the dataset again"):
        store[0]
