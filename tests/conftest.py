"""Shared, session-scoped test fixtures: seeded tiny datasets and small trained models.

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

All models take uint8 clips of 8 x 32 x 32 x 3 (as the tiny datasets hold them).
"""
from __future__ import annotations

import pytest
import torch

from labkit import data, models, train


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
