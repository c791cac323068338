"""`Attribution`: what `attribute` returns — maps, frame scores, the prediction — as numpy."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class Attribution:
    """Where (pixels) and when (frames) a model found evidence for `target`, for N clips.

    maps (N, T, H, W): channel-reduced signed attribution; abs_maps (N, T, H, W): the same of
    |attribution|; frame_scores (N, T): importance of each frame (see MethodSpec.frame_score);
    target, predicted (N,) class indices; probability (N,): probability of the predicted class;
    target_probability (N,); delta (N,) Captum's convergence delta or None; params: every
    parameter used, including sizes chosen from the memory budget.
    """

    maps: np.ndarray
    abs_maps: np.ndarray
    frame_scores: np.ndarray
    target: np.ndarray
    predicted: np.ndarray
    probability: np.ndarray
    target_probability: np.ndarray
    method: str
    params: dict
    delta: np.ndarray | None = None
    classes: list[str] | None = field(default=None)

    def __len__(self) -> int:
        return len(self.maps)

    def to_frame(self) -> pd.DataFrame:
        """One row per (clip, frame): clip, frame, score, abs_mass, signed_mass, target,
        predicted, probability, target_probability, method (+ target_name/predicted_name with classes)."""
        N, T = self.frame_scores.shape
        df = pd.DataFrame({
            "clip": np.repeat(np.arange(N), T),
            "frame": np.tile(np.arange(T), N),
            "score": self.frame_scores.reshape(-1),
            "abs_mass": self.abs_maps.sum(axis=(2, 3)).reshape(-1),
            "signed_mass": self.maps.sum(axis=(2, 3)).reshape(-1),
            "target": np.repeat(self.target, T),
            "predicted": np.repeat(self.predicted, T),
            "probability": np.repeat(self.probability, T),
            "target_probability": np.repeat(self.target_probability, T),
            "method": self.method,
        })
        if self.classes is not None:
            names = np.asarray(self.classes, dtype=object)
            df["target_name"] = names[df["target"].to_numpy()]
            df["predicted_name"] = names[df["predicted"].to_numpy()]
        return df
