"""Fixtures for the explain tests: untrained tiny models (shapes, errors, determinism) and a
well-trained `order` model (faithfulness). The shared tests/conftest.py gives the direction model.

The shared order fixture trains on 48 clips and may stop short of the task, so the order model
here is trained longer (the pointing-game checks need a model that solved the task).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from labkit import data, models, train


def tiny(preset: str = "default", num_classes: int = 3, **overrides):
    """An untrained, seeded model for 32 x 32 clips, small enough for many calls."""
    torch.manual_seed(0)
    kw = dict(img_size=32, hidden_size=8, head_hidden=8)
    if preset != "seed":
        kw["conv_channels"] = (4, 8)
    return models.preset(preset, num_classes=num_classes, **{**kw, **overrides}).eval()


@pytest.fixture(scope="session")
def gru_model():
    return tiny("default")


@pytest.fixture(scope="session")
def lstm_model():
    """The Keras seed layout (conv, pool, flatten, LSTM) at tiny width."""
    return tiny("seed", conv_channels=(4,))


@pytest.fixture(scope="session")
def frame_only_model():
    return tiny("frame-only")


@pytest.fixture(scope="session")
def clips():
    """Three random uint8 clips (3, 6, 32, 32, 3)."""
    return np.random.default_rng(0).integers(0, 256, (3, 6, 32, 32, 3), dtype=np.uint8)


@pytest.fixture(scope="session")
def order_ds():
    """`order` clips 8 x 32 x 32: the first 256 to train on, the last 32 held out."""
    return data.synthetic("order", n=288, frames=8, size=32, seed=1)


@pytest.fixture(scope="session")
def order_model(order_ds):
    """A small GRU model trained on `order` until it solves it (held-out accuracy checked in tests)."""
    torch.manual_seed(0)
    model = models.preset("default", num_classes=2, img_size=32, conv_channels=(8, 16), hidden_size=32,
                          head_hidden=32)
    tr = data.subset(order_ds, np.arange(256))
    result = train.fit(model, tr, epochs=10, batch_size=32, lr=3e-3, seed=0, augment=False,
                       progress=False, device="cpu")
    return result.model.eval()


@pytest.fixture(scope="session")
def order_test(order_ds):
    """The 32 held-out `order` clips (N, T, H, W, C), labels, evidence frames and masks."""
    idx = np.arange(256, 288)
    clips = np.stack([order_ds[int(i)][0] for i in idx])
    masks = np.stack([order_ds.evidence_mask(int(i)) for i in idx])
    return clips, order_ds.labels[idx], order_ds.evidence_frames[idx], masks
