"""Shared test fixtures: seeded tiny datasets, and every tiny test model (untrained and trained)
in one place.

Every fixture is deterministic (fixed seeds) and cheap (a few seconds at most on 2 busy cores).
Treat what they return as READ-ONLY: they are shared by every test in the session. Copy first
(`copy.deepcopy(model)`, `shutil.copytree(run_dir, tmp_path / "run")`) before changing anything.

| fixture                   | what                                                                  |
| ------------------------- | --------------------------------------------------------------------- |
| `tiny_direction`          | data.synthetic("direction", n=96, frames=8, size=32, seed=0): 8 classes |
| `tiny_order`              | data.synthetic("order", n=64, frames=8, size=32, seed=0): 2 classes     |
| `tiny_config`             | a small DCRNConfig (conv 8-16, GRU 16, no head hidden) for 32x32 clips  |
| `trained_order_result`    | train.FitResult of `tiny_config` fitted on tiny_order, with a run folder |
| `trained_order_model`     | its model (best weights, eval mode; train acc ~0.9, val acc ~0.7)      |
| `run_dir_fixture`         | its run folder (config.json, history.csv, metrics.json, best.pt, last.pt) |
| `trained_direction_model` | `tiny_config` (8 classes) fitted 3 epochs on tiny_direction: trained  |
|                           | weights, but NOT accurate (96 clips are too few to learn direction):  |
|                           | use it for plumbing, never assert its accuracy                        |
| `tiny`                    | the factory `tiny_model(preset, num_classes, size, **overrides)`: a   |
|                           | seeded, untrained model in eval mode (fresh on every call)             |
| `gru_model`, `lstm_model`, `frame_only_model` | tiny("default"), the seed layout, tiny("frame-only") |
| `micro_model`             | a fresh seeded 16 x 16, 2-class model of a few hundred parameters      |
| `micro`                   | the factory of its sibling with a hidden head layer (`drop_rate=`)     |
| `order_model`             | a GRU model trained on explain's `order_ds` until it solves the task  |

The trained fixtures take uint8 clips of 8 x 32 x 32 x 3 (as the tiny datasets hold them).
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from labkit import data, models, train

@pytest.fixture(scope="session", autouse=True)
def lessons_root(tmp_path_factory):
    """One folder of lesson runs for the whole session (LABKIT_LESSONS_ROOT): tests/lessons trains
    the quick lessons into it, and notebook 03, run later by tests/notebooks, reuses those runs."""
    root = tmp_path_factory.mktemp("lessons")
    before = os.environ.get("LABKIT_LESSONS_ROOT")
    os.environ["LABKIT_LESSONS_ROOT"] = str(root)
    yield root
    if before is None:
        os.environ.pop("LABKIT_LESSONS_ROOT", None)
    else:
        os.environ["LABKIT_LESSONS_ROOT"] = before


MICRO = dict(num_classes=2, size=16, conv_channels=(4,), hidden_size=8)  # the training tests' model


def tiny_model(preset: str = "default", num_classes: int = 3, size: int = 32, seed: int = 0, **overrides):
    """An untrained model with weights seeded by `seed`, in eval mode, for `size` x `size` clips:
    small enough for many calls (conv 4-8 unless the seed layout, hidden 8, head 8)."""
    kw = dict(img_size=size, hidden_size=8, head_hidden=8, **({} if preset == "seed" else {"conv_channels": (4, 8)}))
    return models.preset(preset, num_classes=num_classes, seed=seed, **{**kw, **overrides}).eval()


@pytest.fixture(scope="session")
def tiny():
    """The factory `tiny_model` (call it: each call builds a fresh model)."""
    return tiny_model


@pytest.fixture(scope="session")
def gru_model():
    return tiny_model("default")


@pytest.fixture(scope="session")
def lstm_model():
    """The Keras seed layout (conv, pool, flatten, LSTM) at tiny width."""
    return tiny_model("seed", conv_channels=(4,))


@pytest.fixture(scope="session")
def frame_only_model():
    return tiny_model("frame-only")


@pytest.fixture
def micro_model():
    """A fresh, seeded DCRN for 16 x 16 clips, 2 classes, no hidden head layer (a few hundred parameters)."""
    return tiny_model(**MICRO, head_hidden=0).train()


@pytest.fixture(scope="session")
def micro():
    """Factory of `micro_model`'s sibling with a hidden head layer: micro(drop_rate=0.2)."""
    return lambda drop_rate=0.0: tiny_model(**MICRO, head_hidden=8, drop_rate=drop_rate).train()


@pytest.fixture(scope="session")
def tiny_direction():
    """96 `direction` clips of 8 x 32 x 32 x 3 (8 classes, 12 each)."""
    return data.synthetic("direction", n=96, frames=8, size=32, seed=0)


@pytest.fixture(scope="session")
def tiny_order():
    """64 `order` clips of 8 x 32 x 32 x 3 (2 classes: red-first / blue-first)."""
    return data.synthetic("order", n=64, frames=8, size=32, seed=0)


@pytest.fixture(scope="session")
def tiny_config():
    """A small DCRNConfig for 32 x 32 clips (set num_classes with .replace(num_classes=...))."""
    return models.preset_config("default", img_size=32, conv_channels=(8, 16), hidden_size=16,
                                head_hidden=0, num_classes=2)


def _fit_tiny(config, ds, epochs, run_dir=None, lr=1e-2):
    torch.manual_seed(0)
    model = models.DCRN(config.replace(num_classes=ds.num_classes))
    tr, va = data.split(ds, (0.75, 0.25), seed=0)
    return train.fit(model, tr, va, epochs=epochs, batch_size=16, lr=lr, seed=0, augment=False,
                     progress=False, run_dir=run_dir, device="cpu", threads=1)


@pytest.fixture(scope="session")
def trained_order_result(tiny_order, tiny_config, tmp_path_factory):
    """FitResult of tiny_config trained on tiny_order (75/25 split), run folder included."""
    result = _fit_tiny(tiny_config, tiny_order, epochs=6, run_dir=tmp_path_factory.mktemp("runs") / "order")
    result.model.eval()
    return result


@pytest.fixture(scope="session")
def trained_order_model(trained_order_result):
    """A DCRN (2 classes, 32 x 32 input, 8 frames) with learned weights, in eval mode."""
    return trained_order_result.model


@pytest.fixture(scope="session")
def run_dir_fixture(trained_order_result):
    """pathlib.Path of a finished run folder (from trained_order_result)."""
    return trained_order_result.run_dir


@pytest.fixture(scope="session")
def trained_direction_model(tiny_direction, tiny_config):
    """A DCRN (8 classes, 32 x 32 input, 8 frames) trained 3 epochs on tiny_direction, in eval mode (not accurate)."""
    return _fit_tiny(tiny_config, tiny_direction, epochs=3).model.eval()


@pytest.fixture(scope="session")
def order_ds():
    """`order` clips 8 x 32 x 32: the first 256 to train on, the last 32 held out."""
    return data.synthetic("order", n=288, frames=8, size=32, seed=1)


@pytest.fixture(scope="session")
def order_model(order_ds):
    """A small GRU model trained on explain's `order_ds` (its first 256 clips) until it solves it
    (held-out accuracy checked in tests)."""
    model = models.preset("default", num_classes=2, img_size=32, conv_channels=(8, 16), hidden_size=32,
                          head_hidden=32, seed=0)
    tr = data.subset(order_ds, np.arange(256))
    result = train.fit(model, tr, epochs=10, batch_size=32, lr=3e-3, seed=0, augment=False,
                       progress=False, device="cpu")
    return result.model.eval()
