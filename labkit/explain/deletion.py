"""Deletion and insertion curves (Petsiuk et al., RISE, 2018), over frames and over pixels.

Deletion: replace the most important frames (or spatio-temporal pixels) by the baseline, in
attribution order, and follow the target's probability; a faithful map makes it fall fast
(low area under the curve). Insertion: start from the baseline and put them back; a faithful
map makes it rise fast (high area). Both are compared with the mean of random orders.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from labkit.errors import LabkitError

from .attribution import Attribution
from .baselines import make_baseline
from .core import check_clips, explaining, plan
from .verdicts import verdict

CURVES = ("deletion", "insertion")
OVER = ("frames", "pixels")


def _ranks(scores: np.ndarray, n_random: int, rng: np.random.Generator) -> np.ndarray:
    """Rank of every position (0 = removed first) under the attribution order, then random orders.

    scores (P,) -> ranks (1 + n_random, P): row 0 sorts by descending score, the rest are
    permutations drawn from `rng`.
    """
    orders = [np.argsort(-scores, kind="stable")] + [rng.permutation(len(scores)) for _ in range(n_random)]
    ranks = np.empty((len(orders), len(scores)), dtype=np.int64)
    for o, order in enumerate(orders):
        ranks[o, order] = np.arange(len(scores))
    return ranks


def _probabilities(model, x1, base1, ranks, counts, target, rows) -> np.ndarray:
    """Target probability along deletion and insertion of one clip, for every order at once.

    x1, base1 (1, T, C, H, W); ranks (O, T) for frames or (O, T, H, W) for pixels; counts (S,)
    positions removed/inserted at each step. Returns (O, 2, S): deletion, insertion per order.
    """
    O, S = len(ranks), len(counts)
    r = torch.as_tensor(ranks, device=x1.device)
    r = r[:, :, None, None, None] if r.ndim == 2 else r[:, :, None]  # (O, T, 1, 1|H, 1|W)
    k = torch.as_tensor(counts, device=x1.device).view(1, S, 1, 1, 1, 1)
    firsts = (r[:, None] < k).reshape(O * S, *r.shape[1:])  # (O*S, T, 1, 1|H, 1|W): top-k positions
    probs = []
    for i in range(0, 2 * O * S, rows):  # rows of [deleted (O*S); inserted (O*S)], a chunk at a time
        j = torch.arange(i, min(i + rows, 2 * O * S), device=x1.device)
        m, inserting = firsts[j % (O * S)], (j >= O * S).view(-1, 1, 1, 1, 1)
        batch = torch.where(m ^ inserting, base1, x1)  # deletion: top-k -> baseline; insertion: only top-k kept
        probs.append(torch.softmax(model(batch).float(), -1)[:, target])
    return torch.cat(probs).reshape(2, O, S).transpose(0, 1).cpu().numpy()


def _tiles(H: int, W: int, tile: int) -> tuple[np.ndarray, int]:
    """Tile index of every pixel (H, W) for square tiles of side `tile`, and the number of tiles."""
    nx = -(-W // tile)
    ids = (np.arange(H)[:, None] // tile) * nx + np.arange(W)[None, :] // tile
    return ids, int(ids.max()) + 1


def deletion_insertion(model, clips, attribution: Attribution, over=OVER, steps: int = 20,
                       n_random: int = 20, baseline: str = "temporal_mean", tile: int = 4, seed: int = 0,
                       memory_mb: float | None = None) -> pd.DataFrame:
    """Deletion and insertion curves for the clips an `Attribution` was computed on.

    clips: uint8 (N, T, H, W, C) (or one clip) matching `attribution` (a padded batch: each clip
    is taken at its own length, `attribution.lengths`, so padding is never ranked); over: "frames" (order by
    frame_scores; T + 1 points) and/or "pixels" (spatio-temporal tiles of tile x tile pixels
    ordered by their summed signed map, steps + 1 points; tiles, because scattered single black
    pixels are so unlike any training clip that a handful of them already flips a small model,
    whatever their order); n_random (>= 1) random orders from a seeded local generator.
    baseline: what a removed frame/tile becomes; the clip's mean frame by default, because black
    frames or patches are themselves evidence to a model that never saw them (on `order`, a
    black clip reads as "red-first"), which would flatten the curves for every order alike.
    Returns a long DataFrame: clip, over, curve ("deletion"|"insertion"), order
    ("attribution"|"random": the mean of the random orders), fraction, probability.
    """
    over = (over,) if isinstance(over, str) else tuple(over)
    if unknown := sorted(set(over) - set(OVER)):
        raise LabkitError(f"over={unknown} not understood; use {list(OVER)}")
    if n_random < 1:
        raise LabkitError(f"n_random must be >= 1 (>= 20 for a stable reference); got {n_random}")
    x = check_clips(model, clips)  # (N, T, C, H, W)
    if len(x) != len(attribution):
        raise LabkitError(f"{len(x)} clips but the attribution covers {len(attribution)}; pass the same clips")
    lengths = attribution.lengths if attribution.lengths is not None else np.full(len(x), x.shape[1])
    rng = np.random.default_rng(seed)
    rows = []
    with explaining(model), torch.no_grad():
        budget = plan(model, x, memory_mb)
        for i, L in enumerate(lengths):  # each clip at its own length: padding is never removed or ranked
            xi = x[i:i + 1, :L]
            base = make_baseline(xi, baseline, model.config.mean, model.config.std)
            for o in over:
                ranks, counts, size = _orders(o, attribution.frame_scores[i, :L], attribution.maps[i, :L],
                                              n_random, rng, steps, tile)
                curves = _probabilities(model, xi, base, ranks, counts, int(attribution.target[i]),
                                        budget.forward_rows)  # (1 + n_random, 2, S)
                for name, curve in (("attribution", curves[0]), ("random", curves[1:].mean(0))):
                    for c, kind in enumerate(CURVES):
                        rows.append(pd.DataFrame({"clip": i, "over": o, "curve": kind, "order": name,
                                                  "fraction": counts / size, "probability": curve[c]}))
    return pd.concat(rows, ignore_index=True)


def _orders(over: str, frame_scores: np.ndarray, maps: np.ndarray, n_random: int, rng, steps: int,
            tile: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(ranks, counts, positions) of one clip: frames ranked by frame_scores (T,) -> ranks (O, T)
    and T + 1 counts; or tiles of maps (T, H, W) ranked by their summed map -> ranks (O, T, H, W)
    (every pixel its tile's rank) and steps + 1 counts."""
    T, H, W = maps.shape
    if over == "frames":
        return _ranks(frame_scores, n_random, rng), np.arange(T + 1), T
    ids, n_tiles = _tiles(H, W, tile)
    score = np.stack([np.bincount(ids.reshape(-1), m.reshape(-1), n_tiles) for m in maps])  # (T, n_tiles)
    ranks = _ranks(score.reshape(-1), n_random, rng).reshape(-1, T, n_tiles)[:, :, ids]  # (O, T, H, W)
    return ranks, np.round(np.linspace(0, score.size, steps + 1)).astype(int), score.size


def curve_auc(curves: pd.DataFrame) -> pd.DataFrame:
    """Area under each curve (trapezoid over fraction in [0, 1]), averaged over clips.

    curves: `deletion_insertion`'s table, with or without a leading `method` column (as a
    `FaithfulnessReport` holds it; then every method gets its own rows).
    Returns [method,] over, curve, auc_attribution, auc_random, then the verdict on the per-clip
    difference attribution - random (deletion: below random is good; insertion: above):
    difference, ci_low, ci_high (bootstrap over clips), verdict ("passed" / "failed" /
    "inconclusive") and passed (True / False, None when inconclusive). The random AUC is the mean
    over random orders (the AUC is linear).
    """
    keys = (["method"] if "method" in curves else []) + ["over", "curve"]
    per_clip = (curves.groupby(keys + ["order", "clip"], sort=False)
                .apply(lambda g: np.trapezoid(g["probability"], g["fraction"]), include_groups=False)
                .rename("auc").reset_index())
    table = per_clip.pivot_table(index=keys, columns="order", values="auc", aggfunc="mean")
    table = table.rename(columns={"attribution": "auc_attribution", "random": "auc_random"}).reset_index()
    table.columns.name = None
    wide = per_clip.pivot_table(index=keys + ["clip"], columns="order", values="auc").reset_index()
    judged = [verdict(g["attribution"] - g["random"], good=-1 if key[-1] == "deletion" else 1)
              for key, g in wide.groupby(keys, sort=False)]
    order = wide.groupby(keys, sort=False).size().reset_index()[keys]
    return table.merge(pd.concat([order, pd.DataFrame(judged)], axis=1), on=keys)
