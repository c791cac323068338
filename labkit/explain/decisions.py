"""When did the model decide: read a prefix curve (`model.predict_prefixes(clip)`, (T, K)), clip
by clip over a dataset; and which fewest frames flip each clip's prediction."""
from __future__ import annotations

import numpy as np
import pandas as pd

from labkit.errors import LabkitError
from .core import attribute
from .edits import smallest_flip
from .faithfulness import sample_indices


def decision_frame(prefix_probs) -> int:
    """The first frame from which the clip's final prediction stays the top class to the end.

    prefix_probs: (T, K) class probabilities after each prefix of frames (rows past a clip's length
    may be NaN). 0 means the model knew from the first frame; T-1 that it decided on the last.
    """
    p = np.asarray(prefix_probs, dtype=float)
    if p.ndim != 2 or not len(p):
        raise LabkitError(f"prefix_probs must be (T, classes) from model.predict_prefixes(clip); got shape {p.shape}")
    p = p[~np.isnan(p).any(1)]
    top = p.argmax(1)  # (T,)
    differs = np.flatnonzero(top != top[-1])
    return int(differs[-1] + 1) if len(differs) else 0


def _evidence_span(ds, i: int, length: int) -> tuple[float, float]:
    """(first, last) evidence frame of clip i, NaN when the dataset marks none."""
    ev = getattr(ds, "evidence_frames", None)
    if ev is None:
        return np.nan, np.nan
    frames = np.flatnonzero(np.asarray(ev[i])[:length])
    return (float(frames[0]), float(frames[-1])) if len(frames) else (np.nan, np.nan)


def when_decided(model, ds, indices=None, n: int = 64, seed: int = 0) -> pd.DataFrame:
    """When did the model decide, clip by clip: one row per clip with index, true, predicted,
    correct, frames, decided (`decision_frame` of its prefix curve), first_evidence and
    last_evidence (the dataset's evidence frames, NaN without them) and `when`: "before the
    evidence", "between evidence frames", "at the last evidence frame" or "after the evidence".
    n clips are drawn with `seed` unless `indices` are given."""
    idx = sample_indices(ds, n, seed) if indices is None else np.asarray(indices)
    rows = []
    for i in idx:
        clip, label = ds[int(i)]
        probs = model.predict_prefixes(clip)  # (T, K)
        decided, (first, last) = decision_frame(probs), _evidence_span(ds, int(i), len(clip))
        when = ("no evidence marked" if np.isnan(first) else "before the evidence" if decided < first else
                "between evidence frames" if decided < last else
                "at the last evidence frame" if decided == last else "after the evidence")
        rows.append({"index": int(i), "true": ds.classes[label], "predicted": ds.classes[int(probs[-1].argmax())],
                     "correct": int(probs[-1].argmax()) == label, "frames": len(clip), "decided": decided,
                     "first_evidence": first, "last_evidence": last, "when": when})
    return pd.DataFrame(rows)


def smallest_flips(model, ds, indices=None, n: int = 16, seed: int = 0, method: str | None = None,
                   **params) -> pd.DataFrame:
    """`smallest_flip` over clips: one row per clip with index, true, predicted, frames, flip (the
    frames whose removal flips the prediction, or None), size (NaN when none flips) and
    on_evidence (whether the flip removes an evidence frame of the dataset; NaN without them).
    method: the attribution whose frame importance guides the search (None: each frame's own
    effect), with its params."""
    idx = sample_indices(ds, n, seed) if indices is None else np.asarray(indices)
    ev, rows = getattr(ds, "evidence_frames", None), []
    for i in idx:
        clip, label = ds[int(i)]
        scores = None if method is None else attribute(model, clip, method=method, **params).frame_scores[0]
        flip = smallest_flip(model, clip, frame_scores=scores)
        on = np.nan if ev is None or flip is None else bool(np.asarray(ev[int(i)])[flip].any())
        rows.append({"index": int(i), "true": ds.classes[label],
                     "predicted": ds.classes[int(model.predict_proba(clip)[0].argmax())], "frames": len(clip),
                     "flip": flip, "size": np.nan if flip is None else len(flip), "on_evidence": on})
    return pd.DataFrame(rows)
