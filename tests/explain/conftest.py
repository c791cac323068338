"""Data fixtures for the explain tests: random clips, and the held-out part of `order_ds` (which,
with `order_model` trained on its first 256 clips, is in tests/conftest.py)."""
from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def clips():
    """Three random uint8 clips (3, 6, 32, 32, 3)."""
    return np.random.default_rng(0).integers(0, 256, (3, 6, 32, 32, 3), dtype=np.uint8)


@pytest.fixture(scope="session")
def order_test(order_ds):
    """The 32 held-out `order` clips (N, T, H, W, C), labels, evidence frames and masks."""
    idx = np.arange(256, 288)
    clips = np.stack([order_ds[int(i)][0] for i in idx])
    masks = np.stack([order_ds.evidence_mask(int(i)) for i in idx])
    return clips, order_ds.labels[idx], order_ds.evidence_frames[idx], masks
