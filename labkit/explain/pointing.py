"""Ground truth: does the attribution point at the evidence the task generator planted?"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.ndimage import maximum_filter, uniform_filter

from labkit.errors import LabkitError
from .attribution import Attribution


def pointing_game(attribution: Attribution, evidence_frames: np.ndarray, evidence_masks: np.ndarray,
                  labels: np.ndarray | None = None, tolerance: int = 1) -> pd.DataFrame:
    """Per clip: is the top frame an evidence frame, and is the top pixel on evidence?

    evidence_frames (N, T) bool; evidence_masks (N, T, H, W) bool (as `ds.evidence_mask(i)`).
    The top pixel is the maximum of the signed map (evidence for the target) after a 3x3 box
    smoothing per frame, so one noisy pixel cannot win; it hits when an evidence pixel lies
    within `tolerance` pixels. Chance levels come with each hit: the share of evidence frames,
    and the area share of the (dilated) mask. mass_share is the share of |map| inside the mask.
    Returns clip, top_frame, frame_hit, frame_chance, pixel_hit, pixel_chance, mass_share,
    area_share (+ label, correct when labels are given). For a padded batch
    (`attribution.lengths`) each clip counts its own frames only.
    """
    frames = np.asarray(evidence_frames, dtype=bool)
    masks = np.asarray(evidence_masks, dtype=bool)
    N, T, H, W = attribution.maps.shape
    if frames.shape != (N, T) or masks.shape != (N, T, H, W):
        raise LabkitError(f"evidence shapes {frames.shape} and {masks.shape} do not match the attribution's "
                         f"(N, T) = {(N, T)} and (N, T, H, W) = {(N, T, H, W)}")
    size = (1, 2 * tolerance + 1, 2 * tolerance + 1)
    rows = []
    lengths = attribution.lengths if attribution.lengths is not None else np.full(N, T)
    for i, L in enumerate(lengths):
        mask, evidence = masks[i, :L], frames[i, :L]
        top_frame = int(np.argmax(attribution.frame_scores[i, :L]))
        smooth = uniform_filter(attribution.maps[i, :L].astype(np.float64), size=(1, 3, 3), mode="nearest")
        t, y, x = np.unravel_index(np.argmax(smooth), smooth.shape)
        near = maximum_filter(mask, size=size) if tolerance > 0 else mask  # (L, H, W) dilated
        mass = attribution.abs_maps[i, :L]
        rows.append({"clip": i, "top_frame": top_frame, "frame_hit": bool(evidence[top_frame]),
                     "frame_chance": float(evidence.mean()), "pixel_hit": bool(near[t, y, x]),
                     "pixel_chance": float(near.mean()),
                     "mass_share": float(mass[mask].sum() / max(mass.sum(), 1e-30)),
                     "area_share": float(mask.mean())})
    df = pd.DataFrame(rows)
    if labels is not None:
        df["label"] = np.asarray(labels)
        df["correct"] = attribution.predicted == df["label"].to_numpy()
    return df
