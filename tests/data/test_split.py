"""Splits: no group crosses splits, classes stratified, deterministic, clear empty-split errors."""
import numpy as np
import pytest

from labkit import data


def test_ungrouped_split_is_stratified_and_deterministic():
    ds = data.synthetic("direction", n=400, frames=2, size=16, seed=0)
    tr, va, te = data.split(ds, (0.7, 0.15, 0.15), seed=3)
    assert (len(tr), len(va), len(te)) == (280, 60, 60)
    assert set(tr.index) | set(va.index) | set(te.index) == set(range(400))
    assert not set(tr.index) & set(te.index)
    for part, share in ((tr, 0.7), (te, 0.15)):
        assert np.abs(part.class_counts().to_numpy() - 50 * share).max() <= 1
    again = data.split(ds, (0.7, 0.15, 0.15), seed=3)
    assert all(np.array_equal(a.index, b.index) for a, b in zip((tr, va, te), again))
    other = data.split(ds, (0.7, 0.15, 0.15), seed=4)
    assert not np.array_equal(tr.index, other[0].index)


def test_groups_never_cross_splits_and_classes_stay_balanced():
    rng = np.random.default_rng(0)
    n = 600
    groups = rng.integers(0, 60, n)  # 60 subjects with clips of every class
    labels = rng.integers(0, 3, n)
    ds = data.ClipDataset(np.zeros((n, 1, 2, 2, 3), np.uint8), labels, ["a", "b", "c"], "g", groups=groups)
    parts = data.split(ds, (0.6, 0.2, 0.2), seed=0)
    seen = [set(p.groups) for p in parts]
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    assert sum(len(p) for p in parts) == n
    for p, share in zip(parts, (0.6, 0.2, 0.2)):
        assert abs(len(p) / n - share) < 0.05
        assert (np.abs(p.class_counts().to_numpy() / len(p) - np.bincount(labels) / n) < 0.06).all()


def test_digits_split_keeps_each_handwritten_sample_in_one_split():
    ds = data.synthetic("digits", n=2500, frames=2, size=16, seed=0)  # more clips than source images
    assert len(set(ds.groups)) < len(ds)
    tr, va, te = data.split(ds, seed=0)
    assert not set(tr.groups) & set(te.groups) and not set(tr.groups) & set(va.groups)
    per_clip = data.split(ds, seed=0, groups=False)  # opting out is explicit
    assert set(per_clip[0].groups) & set(per_clip[2].groups)


def test_too_few_groups_is_a_clear_error():
    ds = data.ClipDataset(np.zeros((6, 1, 2, 2, 3), np.uint8), [0, 1] * 3, ["a", "b"], "g", groups=[1, 1, 1, 2, 2, 2])
    with pytest.raises(ValueError, match=r"split 2 \(fraction 0.2\) would be empty: 6 clips in 2 group"):
        data.split(ds, (0.6, 0.2, 0.2))
    a, b = data.split(ds, (0.5, 0.5))
    assert {len(a), len(b)} == {3}


def test_missing_class_in_a_split_warns():
    labels = [0] * 8 + [1]
    ds = data.ClipDataset(np.zeros((9, 1, 2, 2, 3), np.uint8), labels, ["common", "rare"], "w")
    with pytest.warns(UserWarning, match="no clips of class\\(es\\) \\['rare'\\]"):
        data.split(ds, (0.5, 0.5))


def test_bad_fractions_and_groups():
    ds = data.synthetic("order", n=10, frames=2, size=16, gap=1)
    with pytest.raises(ValueError, match="sum to 1"):
        data.split(ds, (0.7, 0.2))
    with pytest.raises(ValueError, match="one group per clip"):
        data.split(ds, groups=[1, 2])
