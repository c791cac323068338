"""Decoded-clip cache: second load is served from it, a changed file is decoded again, the
parameters are part of the key, writes are atomic, and the location is configurable."""
import os
import sys
import time

import numpy as np

from labkit import data
from labkit.data import cache


def _video_folder(media, root, n=6):
    for i in range(n):
        media.encode(root / ("a" if i % 2 else "b") / f"c{i}.mp4", media.ramp_clip(24, 64, seed=i))
    return root


def test_second_load_comes_from_the_cache_and_is_faster(media, tmp_path, isolated_cache, monkeypatch):
    root = _video_folder(media, tmp_path / "v")
    start = time.perf_counter()
    first = data.folder(root, frames=8, size=32, progress=False)
    cold = time.perf_counter() - start
    assert len(list(isolated_cache.rglob("*.npy"))) == 6
    calls = []
    loader_module = sys.modules["labkit.data.files"]  # (the package's `folder` attribute is the function)
    monkeypatch.setattr(loader_module, "read_clip", lambda *a: calls.append(a))  # no decoding allowed now
    start = time.perf_counter()
    second = data.folder(root, frames=8, size=32, progress=False)
    warm = time.perf_counter() - start
    assert calls == [] and warm < cold
    assert all(np.array_equal(first[i][0], second[i][0]) for i in range(6))


def test_changed_file_is_read_again(media, tmp_path):
    root = tmp_path / "v"
    path = media.encode(root / "a" / "x.mp4", media.ramp_clip(8, 32, seed=0))
    before = data.folder(root, frames=8, size=32, progress=False)[0][0]
    media.encode(path, 255 - media.ramp_clip(8, 32, seed=0))  # new content at the same path
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))  # and a surely newer mtime
    after = data.folder(root, frames=8, size=32, progress=False)[0][0]
    assert np.abs(after.astype(int) - (255 - before.astype(int))).mean() < 6


def test_parameters_are_part_of_the_key(media, tmp_path, isolated_cache):
    root = tmp_path / "v"
    media.encode(root / "a" / "x.mp4", media.ramp_clip(8, 32))
    assert data.folder(root, frames=8, size=32, progress=False)[0][0].shape == (8, 32, 32, 3)
    assert data.folder(root, frames=4, size=16, progress=False)[0][0].shape == (4, 16, 16, 3)
    assert len(list(isolated_cache.rglob("*.npy"))) == 2


def test_cache_location_argument_env_and_off(media, tmp_path, isolated_cache):
    root = tmp_path / "v"
    media.encode(root / "a" / "x.mp4", media.ramp_clip(8, 32))
    data.folder(root, frames=8, size=32, cache_dir=tmp_path / "mine", progress=False)
    assert list((tmp_path / "mine").rglob("*.npy")) and not isolated_cache.exists()
    data.folder(root, frames=8, size=32, cache_dir=False, progress=False)
    assert not isolated_cache.exists()
    assert cache.resolve_dir() == isolated_cache  # $LABKIT_CACHE, set by the fixture


def test_writes_are_atomic_and_leave_no_temp_files(tmp_path):
    clip = np.arange(2 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 4, 4, 3)
    f = cache.save(tmp_path, "ab" * 20, clip)
    assert np.array_equal(cache.load(tmp_path, "ab" * 20), clip)
    assert [p.name for p in f.parent.iterdir()] == [f.name]
    f.write_bytes(b"half a file")  # what a crash would leave without the rename: treated as absent
    assert cache.load(tmp_path, "ab" * 20) is None
