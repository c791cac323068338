"""`split(ds, fractions, seed, groups)`: deterministic, stratified, group-aware splits.

Random per-clip splits leak near-duplicates (clips cut from one video, one subject, one
handwritten sample) between train and test. With groups, every group lands whole in one split;
groups are placed greedily, largest first, each where it best brings every split's class counts
towards their targets (fraction x class size), so splits stay stratified where the groups allow.
"""
from __future__ import annotations

import warnings

import numpy as np

from labkit.errors import LabkitError
from .dataset import ClipDataset, subset


def split(ds: ClipDataset, fractions=(0.7, 0.15, 0.15), seed: int = 0, groups=None) -> tuple[ClipDataset, ...]:
    """Split into len(fractions) datasets (e.g. train, val, test).

    fractions: non-negative, summing to 1. groups: None (use `ds.groups` when it has them), an
    array (N,) of group ids, or False (per-clip split even when ds has groups). Raises ValueError
    when a split with a positive fraction would be empty; warns when a class is missing from one.
    """
    parts = split_indices(ds.labels, fractions, seed, ds.groups if groups is None else groups, ds.classes)
    return tuple(subset(ds, p) for p in parts)


def split_indices(labels, fractions, seed: int = 0, groups=None, classes=None) -> list[np.ndarray]:
    """The split as sorted index arrays: labels int (N,), groups (N,) or None/False -> one int64 array per split."""
    labels = np.asarray(labels, dtype=np.int64)
    f = np.asarray(fractions, dtype=float)
    if f.ndim != 1 or len(f) < 1 or not np.isfinite(f).all() or (f < 0).any() or abs(f.sum() - 1) > 1e-6:
        raise LabkitError(f"fractions={tuple(fractions)} must be non-negative and sum to 1, e.g. (0.7, 0.15, 0.15)")
    if groups is None or groups is False:
        groups = np.arange(len(labels))  # every clip its own group
    groups = np.asarray(groups)
    if groups.shape != labels.shape:
        raise LabkitError(f"groups has shape {groups.shape}; expected one group per clip, ({len(labels)},)")
    rng = np.random.default_rng(seed)
    K = int(labels.max(initial=-1)) + 1
    names, gid = np.unique(groups.astype(str), return_inverse=True)
    hist = np.zeros((len(names), K))  # (G, K) clips per group and class
    np.add.at(hist, (gid, labels), 1)
    target = f[:, None] * hist.sum(0)[None, :]  # (S, K) wanted clips per split and class
    weight = 1.0 / np.maximum(hist.sum(0), 1)  # classes count equally, whatever their size
    count = np.zeros_like(target)
    assign = np.empty(len(names), np.int64)
    order = rng.permutation(len(names))
    order = order[np.argsort(-hist[order].sum(1), kind="stable")]  # largest groups first, ties at random
    for g in order:  # a loop over groups (clips, for ungrouped data): each step is a small (S, K) update
        # growth of the squared miss sum_c w_c (count - target)^2 if group g joins each split
        cost = (hist[g] * (2 * (count - target) + hist[g]) * weight).sum(1)
        size, total = hist[g].sum(), count.sum(1) - target.sum(1)  # the same for split sizes breaks ties
        cost += size * (2 * total + size) / len(labels)
        cost[f == 0] = np.inf
        s = int(np.argmin(cost))
        assign[g] = s
        count[s] += hist[g]
    parts = [np.flatnonzero(assign[gid] == s) for s in range(len(f))]
    for s, p in enumerate(parts):
        if f[s] > 0 and len(p) == 0:
            raise LabkitError(f"split {s} (fraction {f[s]:g}) would be empty: {len(labels)} clips in {len(names)} "
                             f"group(s) cannot fill fractions {tuple(fractions)}; use more data, fewer splits, "
                             f"or larger fractions")
        missing = [c for c in range(K) if f[s] > 0 and (labels[p] == c).sum() == 0 and hist[:, c].sum() > 0]
        if missing:
            names_ = [classes[c] if classes else c for c in missing]
            warnings.warn(f"split {s} (fraction {f[s]:g}) has no clips of class(es) {names_}: "
                          f"their groups could not be shared out", stacklevel=3)
    return parts
