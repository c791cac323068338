"""`ClipDataset`: labelled uint8 clips (T, H, W, C), in memory or read from .npy files on access.

Every loader in labkit.data returns one, and `subset` / `split` return views of one (sharing the
clip storage, keeping classes, paths, groups, evidence and the recipe aligned).
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from labkit.errors import LabkitError, MissingPathError
from .evidence import Evidence

REPORT_COLUMNS = ["path", "problem"]


class NpyClips:
    """File-backed clip storage: clip i is the uint8 (T, H, W, C) array in `files[i]` (.npy),
    read (memory-mapped, then copied) each time it is asked for."""

    def __init__(self, files: Sequence[str], sources: Sequence[str] | None = None):
        self.files = list(files)
        self.sources = list(sources) if sources is not None else self.files

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> np.ndarray:
        try:
            return np.array(np.load(self.files[i], mmap_mode="r"))
        except (OSError, ValueError) as e:
            raise MissingPathError(
                f"{self.sources[i]}: its decoded copy {self.files[i]} could not be read ({e}); "
                f"the cache was probably cleared while in use: load the dataset again") from None


def pad_clips(clips: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """List of uint8 (T_i, H, W, C) -> (uint8 (B, max T_i, H, W, C) zero-padded at the end, int64 lengths (B,))."""
    lengths = np.array([len(c) for c in clips], dtype=np.int64)
    if len(clips) and (lengths == lengths[0]).all():
        return np.stack(clips), lengths
    out = np.zeros((len(clips), int(lengths.max(initial=0)), *clips[0].shape[1:]), np.uint8)
    for b, c in enumerate(clips):  # a loop over clips of a batch, each a block copy
        out[b, :len(c)] = c
    return out, lengths


class ClipDataset:
    """Labelled clips: `ds[i] -> (clip uint8 (T, H, W, C), label int)`.

    Attributes: `name`; `classes: list[str]`; `num_classes`; `labels` int64 (N,); `paths` (file
    or folder of each clip, or None for generated data); `groups` (N,) or None (clips that must
    stay in one split, e.g. the same subject); `lengths` int64 (N,) or None when every clip has
    the same T; `report` (DataFrame path, problem: inputs skipped at load time); `index` int64 (N,)
    (each clip's position in the dataset it was first loaded as, kept through subsets); `recipe`
    (a JSON-ready dict saying how to rebuild exactly these clips with `data.from_recipe`, or None
    for a dataset built by hand from arrays). Synthetic datasets add `evidence_frames` bool (N, T)
    and `evidence_mask(i)` -> bool (T, H, W).
    """

    def __init__(self, clips, labels, classes: Sequence[str], name: str, *, paths=None, groups=None,
                 lengths=None, evidence: Evidence | None = None, report: pd.DataFrame | None = None,
                 recipe: dict | None = None, index=None, rows=None):
        self._clips = clips  # (N, T, H, W, C) array, list of (T_i, H, W, C) arrays, or NpyClips
        self.labels = np.asarray(labels, dtype=np.int64)
        self.classes = [str(c) for c in classes]
        self.name = name
        self.paths = list(paths) if paths is not None else None
        self.groups = np.asarray(groups) if groups is not None else None
        self.lengths = np.asarray(lengths, dtype=np.int64) if lengths is not None else None
        self.evidence = evidence
        self.report = report if report is not None else pd.DataFrame(columns=REPORT_COLUMNS)
        self._recipe = None if recipe is None else jsonable(recipe)
        self.index = np.arange(len(self.labels), dtype=np.int64) if index is None else np.asarray(index, np.int64)
        n = len(self.labels)
        # where each clip lives in the storage: subsets share their parent's storage
        self._rows = np.arange(n, dtype=np.int64) if rows is None else np.asarray(rows, np.int64)
        for attr in ("paths", "groups", "lengths"):
            value = getattr(self, attr)
            if value is not None and len(value) != n:
                raise LabkitError(f"{attr} has {len(value)} entries for {n} clips")
        if len(self.index) != n:
            raise LabkitError(f"index has {len(self.index)} entries for {n} clips")
        if n and (self.labels.min() < 0 or self.labels.max() >= len(self.classes)):
            raise LabkitError(f"labels must lie in 0..{len(self.classes) - 1} (one per class)")

    # --- clips -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        """(clip uint8 (T, H, W, C), label int). The clip may be a view of the storage: copy it
        before changing it in place."""
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"clip {i} out of range for {n} clips")
        i = int(i) % n
        return self._clips[int(self._rows[i])], int(self.labels[i])

    def batch(self, indices) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Clips at `indices` -> (uint8 (B, T, H, W, C) zero-padded to the longest, labels (B,), lengths (B,))."""
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        clips, lengths = pad_clips([self[int(i)][0] for i in indices])
        return clips, self.labels[indices], lengths

    # --- description -----------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def clip_shape(self) -> tuple:
        """(T, H, W, C) of the clips; T is None when lengths vary."""
        if not len(self):
            return ()
        T, H, W, C = self[0][0].shape
        return (None if self.lengths is not None else T, H, W, C)

    def class_counts(self) -> pd.Series:
        """Clips per class (a Series indexed by class name, in class order)."""
        return pd.Series(np.bincount(self.labels, minlength=self.num_classes), index=self.classes, name="clips")

    @property
    def recipe(self) -> dict | None:
        """How to rebuild these clips: `data.from_recipe(ds.recipe)` (a copy: editing it changes nothing here).

        {"kind": "synthetic" | "folder" | "manifest", ...} for a dataset as loaded, {"kind":
        "subset", "of": <that recipe>, "indices": [...]} for a subset or split of one; None when
        the clips were given by hand.
        """
        return copy.deepcopy(self._recipe)

    @property
    def evidence_frames(self) -> np.ndarray | None:
        """bool (N, T): frames that carry the class (synthetic data only; None otherwise)."""
        return None if self.evidence is None else self.evidence.frames

    def evidence_mask(self, i: int) -> np.ndarray:
        """bool (T, H, W): pixels of clip i that carry the class (synthetic data only)."""
        if self.evidence is None:
            raise LabkitError(f"dataset {self.name!r} has no ground-truth evidence; only data.synthetic(...) tasks do")
        return self.evidence.mask(int(i) % len(self))

    def __repr__(self) -> str:
        shape = "x".join("?" if d is None else str(d) for d in self.clip_shape) or "-"
        extra = f", {len(self.report)} skipped" if len(self.report) else ""
        return f"ClipDataset({self.name!r}: {len(self)} clips of {shape}, {self.num_classes} classes{extra})"


def jsonable(value, key: str = "recipe"):
    """`value` as plain JSON data: tuples and arrays become lists, numpy scalars and paths Python
    ones. Raises ValueError naming the key of anything JSON cannot hold."""
    if isinstance(value, dict):
        return {str(k): jsonable(v, f"{key}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v, f"{key}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise LabkitError(f"{key}={value!r}: a recipe holds only JSON values (str, int, float, bool, None, "
                     f"lists, dicts); pass a plain value instead of a {type(value).__name__}")


def root_recipe(recipe: dict | None) -> dict | None:
    """The recipe of the dataset as first loaded: a subset's `of`, else the recipe itself."""
    if recipe is not None and recipe.get("kind") == "subset":
        return recipe.get("of")
    return recipe


def subset(ds: ClipDataset, indices) -> ClipDataset:
    """The clips at `indices` (ints or a bool mask over ds), sharing storage and keeping classes,
    paths, groups, lengths, evidence and report aligned; the recipe becomes {"kind": "subset",
    "of": <the recipe of the dataset as first loaded>, "indices": <positions in it>} (never nested)."""
    idx = np.asarray(indices)
    if idx.dtype == bool:
        if idx.shape != (len(ds),):
            raise LabkitError(f"a boolean mask must have shape ({len(ds)},); got {idx.shape}")
        idx = np.flatnonzero(idx)
    idx = idx.astype(np.int64).reshape(-1)
    if len(idx) and (idx.min() < -len(ds) or idx.max() >= len(ds)):
        raise IndexError(f"subset indices must lie in 0..{len(ds) - 1}")
    idx = idx % max(len(ds), 1)
    return ClipDataset(
        ds._clips, ds.labels[idx], ds.classes, ds.name,
        paths=None if ds.paths is None else [ds.paths[i] for i in idx],
        groups=None if ds.groups is None else ds.groups[idx],
        lengths=None if ds.lengths is None else ds.lengths[idx],
        evidence=None if ds.evidence is None else ds.evidence.take(idx),
        report=ds.report, recipe=_subset_recipe(ds._recipe, ds.index[idx]), index=ds.index[idx],
        rows=ds._rows[idx])


def _subset_recipe(recipe: dict | None, positions: np.ndarray) -> dict | None:
    """A subset's recipe: positions (int (n,)) in the dataset as first loaded; None without a recipe."""
    root = root_recipe(recipe)
    return None if root is None else {"kind": "subset", "of": root, "indices": positions.tolist()}
