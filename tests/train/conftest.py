"""Local fixture for the training tests: the smallest data that still trains (the micro models
are in tests/conftest.py)."""
import pytest

from labkit import data


@pytest.fixture(scope="module")
def micro_split():
    """(train 24, val 8) `order` clips of 4 x 16 x 16 x 3."""
    ds = data.synthetic("order", n=32, frames=4, size=16, seed=0)
    return data.split(ds, (0.75, 0.25), seed=0)
