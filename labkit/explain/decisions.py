"""When did the model decide: read a prefix curve (`model.predict_prefixes(clip)`, (T, K))."""
from __future__ import annotations

import numpy as np

from labkit.errors import LabkitError


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
