"""Local fixtures for the training tests: the smallest data and model that still train."""
import pytest
import torch

from labkit import data, models


@pytest.fixture(scope="module")
def micro_split():
    """(train 24, val 8) `order` clips of 4 x 16 x 16 x 3."""
    ds = data.synthetic("order", n=32, frames=4, size=16, seed=0)
    return data.split(ds, (0.75, 0.25), seed=0)


@pytest.fixture
def micro_model():
    """A fresh, seeded DCRN for 16 x 16 clips, 2 classes (a few hundred parameters)."""
    torch.manual_seed(0)
    return models.preset("default", num_classes=2, img_size=16, conv_channels=(4,), hidden_size=8, head_hidden=0)


def micro_model_like(drop_rate: float = 0.0):
    torch.manual_seed(0)
    return models.preset("default", num_classes=2, img_size=16, conv_channels=(4,), hidden_size=8,
                         head_hidden=8, drop_rate=drop_rate)
