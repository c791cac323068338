"""Your own clips: `folder(root, ...)` for `<root>/<class>/<clip>.mp4|avi|mov|mkv|webm` or
`<root>/<class>/<clip>/<frame>.png|jpg|...`, and `manifest(csv, ...)` for a `path,label[,group]` list.

Clips are decoded eagerly, with a progress bar, so a bad file fails here with its name (not
later inside a DataLoader worker), and cached as uint8 .npy so the next load is fast.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from labkit.errors import LabkitError
from . import cache
from .dataset import ClipDataset, NpyClips
from .decode import CROPS, read_clip
from .layout import Entry, natural_key, read_manifest, scan_folder, with_groups
from .problems import DataError, Problems

_DOC_PARAMS = """
    frames: frames per clip, sampled uniformly in time; None keeps every frame (variable-length
        clips, `ds.lengths`). A clip with fewer frames is a problem.
    size: frames are resized to size x size RGB (the whole frame; `crop="center"` first takes
        the centre square, keeping the aspect ratio).
    classes: class order (default: the labels found, in natural sort order); a clip whose label
        is not listed is a problem.
    group_pattern: regex over each file name giving its group (named group `group`, else the
        first group, else the whole match), e.g. r"^(subj\\d+)_"; `split` keeps groups whole. In a
        manifest, the `group` column does the same; a clip with an empty cell is a group of its own.
    on_error: "raise" (default: stop at the first bad input with its name and a fix) or
        "skip" (leave it out and list it in `ds.report`).
    cache_dir: where decoded clips are cached (default $LABKIT_CACHE or <repo>/data/cache;
        False: no cache).
    in_memory: keep clips in memory (default) or read them from the cache on access (needs a cache).
    workers: decoding threads (default: up to 4 CPU cores). progress: show a progress bar.

`ds.recipe` holds the absolute path and every parameter above that changes the clips, with the
class order in effect (cache_dir, in_memory, workers and progress only change how they load).
"""


def folder(root, frames: int | None = 16, size: int = 64, *, crop: str | None = None, classes=None,
           group_pattern: str | None = None, on_error: str = "raise", cache_dir=None, in_memory: bool = True,
           workers: int | None = None, progress: bool = True) -> ClipDataset:
    root = Path(root).resolve()  # absolute: the recipe and the paths hold wherever they are read
    problems = Problems(on_error)
    entries = with_groups(scan_folder(root, problems), group_pattern, problems)
    return _load(entries, problems, name=root.name, source={"kind": "folder", "root": str(root)},
                 frames=frames, size=size, crop=crop, classes=classes, group_pattern=group_pattern,
                 cache_dir=cache_dir, in_memory=in_memory, workers=workers, progress=progress)


def manifest(csv_path, frames: int | None = 16, size: int = 64, *, crop: str | None = None, classes=None,
             group_pattern: str | None = None, on_error: str = "raise", cache_dir=None, in_memory: bool = True,
             workers: int | None = None, progress: bool = True) -> ClipDataset:
    csv_path = Path(csv_path).resolve()  # absolute, as for folder()
    problems = Problems(on_error)
    entries = with_groups(read_manifest(csv_path, problems), group_pattern, problems)
    return _load(entries, problems, name=csv_path.stem, source={"kind": "manifest", "csv": str(csv_path)},
                 frames=frames, size=size, crop=crop, classes=classes, group_pattern=group_pattern,
                 cache_dir=cache_dir, in_memory=in_memory, workers=workers, progress=progress)


folder.__doc__ = """Load `<root>/<class>/<clip>.<video>` and `<root>/<class>/<clip>/<frames>` -> ClipDataset
of uint8 clips (T, size, size, 3), labels from the class folder names.
""" + _DOC_PARAMS
manifest.__doc__ = """Load the clips listed in a CSV `path,label[,group]` (paths relative to the CSV) -> ClipDataset
of uint8 clips (T, size, size, 3); the `group` column, if present, gives `ds.groups`.
""" + _DOC_PARAMS


def _check_params(frames, size, crop, cache_dir, in_memory) -> None:
    if frames is not None and (int(frames) != frames or frames < 1):
        raise LabkitError(f"frames={frames!r} must be a positive integer, or None to keep every frame")
    if int(size) != size or size < 1:
        raise LabkitError(f"size={size!r} must be a positive integer (frames are resized to size x size)")
    if crop not in CROPS:
        raise LabkitError(f"crop={crop!r}; choose one of {list(CROPS)}")
    if not in_memory and cache_dir is False:
        raise LabkitError("in_memory=False reads clips from the cache, so it needs a cache (cache_dir is False)")


def _in_classes(entries: list[Entry], classes: list[str], problems: Problems) -> list[Entry]:
    """The entries whose label is one of `classes`; each other one is a problem."""
    for e in entries:
        if e.label not in classes:
            problems.add(DataError(e.path, f"has label {e.label!r}, not among classes={classes}",
                                   "add it to classes= or remove the clip"))
    return [e for e in entries if e.label in classes]


def _load(entries: list[Entry], problems: Problems, *, name, source, frames, size, crop, classes,
          group_pattern, cache_dir, in_memory, workers, progress) -> ClipDataset:
    _check_params(frames, size, crop, cache_dir, in_memory)
    if classes is not None:
        classes = [str(c) for c in classes]
        entries = _in_classes(entries, classes, problems)
    where = cache.resolve_dir(cache_dir)
    params = {"frames": frames, "size": size, "crop": crop}

    def decode(e: Entry):
        """-> (clip uint8 (T, size, size, 3) or None, cache file or None, DataError or None)"""
        try:
            k = cache.key(e.path, **params) if where else None
            clip = cache.load(where, k) if where else None
            if clip is None:
                clip = read_clip(e.path, frames, size, crop)
                if where:
                    cache.save(where, k, clip)
            return clip, cache.file_for(where, k) if where else None, None
        except DataError as err:
            return None, None, err

    workers = workers or min(4, os.cpu_count() or 1)
    kept, clips, files = [], [], []
    pool = ThreadPoolExecutor(workers)
    try:
        results = pool.map(decode, entries)
        for e, (clip, f, err) in tqdm(zip(entries, results), total=len(entries), desc=f"loading {name}",
                                      unit="clip", disable=not progress):
            if err is not None:
                problems.add(err)  # raises here with on_error="raise"
                continue
            kept.append(e)
            clips.append(clip if in_memory else None)
            files.append(f)
    finally:
        pool.shutdown(cancel_futures=True)  # on an error, do not decode the rest first
    if not kept:
        skipped = "; ".join(str(e) for e in problems.errors[:3])
        raise DataError(source.get("root") or source.get("csv"), "no clip could be loaded"
                        + (f" ({len(problems.errors)} skipped, e.g. {skipped})" if skipped else ""),
                        "check the layout: <root>/<class>/<clip>.mp4 or <root>/<class>/<clip>/<frame>.png")
    if classes is None:
        classes = sorted({e.label for e in kept}, key=natural_key)
    lengths = np.array([len(c) for c in clips] if in_memory else [np.load(f, mmap_mode="r").shape[0] for f in files])
    same = (lengths == lengths[0]).all()
    store = (np.stack(clips) if same else clips) if in_memory else NpyClips([str(f) for f in files],
                                                                          [str(e.path) for e in kept])
    # a clip without a group (an empty manifest cell) is a group of its own
    groups = [str(e.path) if e.group is None else e.group for e in kept]
    return ClipDataset(
        store, [classes.index(e.label) for e in kept], classes, name, paths=[str(e.path) for e in kept],
        groups=None if all(e.group is None for e in kept) else np.array(groups, dtype=object),
        lengths=None if same else lengths, report=problems.frame(),
        recipe={**source, **params, "classes": classes, "group_pattern": group_pattern,
                "on_error": problems.on_error})
