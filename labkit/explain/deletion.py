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

from .attribution import Attribution
from .baselines import make_baseline
from .budget import plan
from .inputs import check_clips
from .state import explaining

CURVES = ("deletion", "insertion")
OVER = ("frames", "pixels")


def _ranks(order: np.ndarray) -> np.ndarray:
    """Rank of each position given an order of positions: (P,) -> (P,), rank 0 = first."""
    ranks = np.empty_like(order)
    ranks[order] = np.arange(len(order))
    return ranks


def _probabilities(model, x1, base1, ranks, counts, target, rows) -> np.ndarray:
    """Target probability along deletion and insertion for one clip and one order.

    x1, base1 (1, T, C, H, W); ranks (T,) for frames or (T, H, W) for pixels; counts (S,)
    positions removed/inserted at each step. Returns (2, S): deletion row, insertion row.
    """
    shape = (1, -1, 1, 1, 1) if ranks.ndim == 1 else (1, ranks.shape[0], 1, *ranks.shape[1:])
    r = torch.as_tensor(ranks, device=x1.device).reshape(shape)
    firsts = torch.stack([r < k for k in counts.tolist()]).squeeze(1)  # (S, T, 1|1, 1|H, 1|W)
    deleted = torch.where(firsts, base1, x1)  # (S, T, C, H, W): top-k replaced by the baseline
    inserted = torch.where(firsts, x1, base1)  # (S, T, C, H, W): only the top-k from the clip
    batch = torch.cat([deleted, inserted])  # (2S, T, C, H, W)
    probs = torch.cat([torch.softmax(model(batch[i:i + rows]).float(), -1)[:, target]
                       for i in range(0, len(batch), rows)])
    return probs.reshape(2, -1).cpu().numpy()


def deletion_insertion(model, clips, attribution: Attribution, over=OVER, steps: int = 20,
                       n_random: int = 20, baseline: str = "black", seed: int = 0,
                       memory_mb: float | None = None) -> pd.DataFrame:
    """Deletion and insertion curves for the clips an `Attribution` was computed on.

    clips: uint8 (N, T, H, W, C) (or one clip) matching `attribution`; over: "frames" (order by
    frame_scores; T + 1 points) and/or "pixels" (spatio-temporal pixels ordered by the signed
    map, steps + 1 points); n_random (>= 1) random orders from a seeded local generator.
    Returns a long DataFrame: clip, over, curve ("deletion"|"insertion"), order
    ("attribution"|"random": the mean of the random orders), fraction, probability.
    """
    over = (over,) if isinstance(over, str) else tuple(over)
    if unknown := sorted(set(over) - set(OVER)):
        raise ValueError(f"over={unknown} not understood; use {list(OVER)}")
    if n_random < 1:
        raise ValueError(f"n_random must be >= 1 (>= 20 for a stable reference); got {n_random}")
    x = check_clips(model, clips)  # (N, T, C, H, W)
    if len(x) != len(attribution):
        raise ValueError(f"{len(x)} clips but the attribution covers {len(attribution)}; pass the same clips")
    base = make_baseline(x, baseline, model.config.mean, model.config.std)
    rng = np.random.default_rng(seed)
    N, T = x.shape[:2]
    rows = []
    with explaining(model), torch.no_grad():
        budget = plan(model, x, memory_mb)
        for i in range(N):
            for o in over:
                if o == "frames":
                    score, counts = attribution.frame_scores[i], np.arange(T + 1)
                else:
                    score = attribution.maps[i]  # (T, H, W)
                    counts = np.round(np.linspace(0, score.size, steps + 1)).astype(int)
                orders = [np.argsort(-score.reshape(-1), kind="stable")]
                orders += [rng.permutation(score.size) for _ in range(n_random)]
                curves = np.stack([_probabilities(model, x[i:i + 1], base[i:i + 1],
                                                  _ranks(order).reshape(score.shape), counts,
                                                  int(attribution.target[i]), budget.forward_rows)
                                   for order in orders])  # (1 + n_random, 2, S)
                fraction = counts / score.size
                for name, curve in (("attribution", curves[0]), ("random", curves[1:].mean(0))):
                    for c, kind in enumerate(CURVES):
                        rows.append(pd.DataFrame({"clip": i, "over": o, "curve": kind, "order": name,
                                                  "fraction": fraction, "probability": curve[c]}))
    return pd.concat(rows, ignore_index=True)


def curve_auc(curves: pd.DataFrame) -> pd.DataFrame:
    """Area under each curve (trapezoid over fraction in [0, 1]), averaged over clips.

    Returns over, curve, auc_attribution, auc_random, passed (deletion: attribution below
    random; insertion: above). The random AUC is the mean over random orders (the AUC is linear).
    """
    per_clip = (curves.groupby(["over", "curve", "order", "clip"], sort=False)
                .apply(lambda g: np.trapezoid(g["probability"], g["fraction"]), include_groups=False)
                .rename("auc").reset_index())
    table = per_clip.pivot_table(index=["over", "curve"], columns="order", values="auc", aggfunc="mean")
    table = table.rename(columns={"attribution": "auc_attribution", "random": "auc_random"}).reset_index()
    table.columns.name = None
    below = table["auc_attribution"] < table["auc_random"]
    table["passed"] = np.where(table["curve"] == "deletion", below, ~below)
    return table
