"""`Attribution`: what `attribute` returns — maps, frame scores, the prediction — as numpy."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# Completeness gap (|delta| / |logit difference|) above which a path integral is too coarse
COMPLETENESS_TOLERANCE = 0.05


@dataclass
class Attribution:
    """Where (pixels) and when (frames) a model found evidence for `target`, for N clips.

    maps (N, T, H, W): channel-reduced signed attribution; abs_maps (N, T, H, W): the same of
    |attribution|; frame_scores (N, T): importance of each frame (see MethodSpec.frame_score);
    target, predicted (N,) class indices; probability (N,): probability of the predicted class;
    target_probability (N,); delta (N,) Captum's convergence delta or None; params: every
    parameter used, including sizes chosen from the memory budget; lengths (N,): the valid
    frames of each clip of a padded batch (None: every clip whole) — maps are 0 and frame scores
    NaN on the padding.
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
    lengths: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.maps)

    @classmethod
    def merge(cls, parts: list["Attribution"], order: list[np.ndarray], n: int, frames: int,
              lengths: np.ndarray) -> "Attribution":
        """One Attribution of n clips padded to `frames` from parts explained at their own
        lengths; order[k]: the clips (indices into the n) of parts[k]."""
        first = parts[0]
        H, W = first.maps.shape[2:]
        maps, abs_maps = np.zeros((n, frames, H, W), np.float32), np.zeros((n, frames, H, W), np.float32)
        scores = np.full((n, frames), np.nan, np.float32)
        per_clip = {k: np.zeros(n, getattr(first, k).dtype) for k in ("target", "predicted", "probability",
                                                                       "target_probability")}
        delta = None if first.delta is None else np.zeros(n, np.float32)
        for part, idx in zip(parts, order):
            T = part.maps.shape[1]
            maps[idx, :T], abs_maps[idx, :T], scores[idx, :T] = part.maps, part.abs_maps, part.frame_scores
            for k, v in per_clip.items():
                v[idx] = getattr(part, k)
            if delta is not None:
                delta[idx] = part.delta
        return cls(maps=maps, abs_maps=abs_maps, frame_scores=scores, method=first.method, params=first.params,
                   delta=delta, classes=first.classes, lengths=np.asarray(lengths), **per_clip)

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

    def completeness(self) -> pd.DataFrame | None:
        """How well the attributions add up, for methods with a convergence delta (integrated
        gradients, DeepLift): their maps sum over channels, so a clip's map sums to the target
        logit's F(clip) - F(baseline) up to Captum's delta.

        One row per clip: clip, attribution_sum, logit_difference (= attribution_sum - delta),
        delta, relative_error (|delta| / |logit_difference|; NaN where the difference is ~0).
        None for methods without a delta.
        """
        if self.delta is None:
            return None
        total = self.maps.sum(axis=(1, 2, 3), dtype=np.float64)  # (N,)
        delta = self.delta.astype(np.float64)
        diff = total - delta
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(np.abs(diff) > 1e-6, np.abs(delta) / np.abs(diff), np.nan)
        return pd.DataFrame({"clip": np.arange(len(total)), "attribution_sum": total,
                             "logit_difference": diff, "delta": delta, "relative_error": rel})

    def completeness_error(self, clip: int = 0) -> float | None:
        """Clip `clip`'s relative completeness gap (see `completeness`), or None for methods
        without a delta and where the logit did not move from the baseline."""
        table = self.completeness()
        value = None if table is None else float(table["relative_error"].iloc[clip])
        return None if value is None or np.isnan(value) else value

    def completeness_note(self, clip: int = 0) -> str:
        """One line for people: how far clip `clip`'s attributions are from adding up, and what
        to do when the gap passes COMPLETENESS_TOLERANCE; "" for methods without a delta."""
        table = self.completeness()
        if table is None:
            return ""
        row, error = table.iloc[clip], self.completeness_error(clip)
        line = (f"attributions sum to {row.attribution_sum:.3g}, the logit moved by "
                f"{row.logit_difference:.3g} from the baseline")
        if error is None:
            return line + " (no difference to compare with)"
        line += f": {100 * error:.1f}% apart"
        if error > COMPLETENESS_TOLERANCE:
            hint = " (raise n_steps)" if "n_steps" in self.params else ""
            line += f", above {100 * COMPLETENESS_TOLERANCE:.0f}%: the approximation is coarse{hint}"
        return line
