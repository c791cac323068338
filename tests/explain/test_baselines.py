"""Baselines in the normalised input space."""
from __future__ import annotations

import pytest
import torch

from labkit.explain.baselines import make_baseline

MEAN, STD = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)


def test_baselines():
    x = torch.randn(2, 5, 3, 16, 16)
    black = make_baseline(x, "black", MEAN, STD)
    assert black.shape == x.shape and torch.all(black == -2.0)
    mean = make_baseline(x, "temporal_mean", MEAN, STD)
    torch.testing.assert_close(mean[:, 0], x.mean(1)) and torch.testing.assert_close(mean[:, 3], mean[:, 0])
    blur = make_baseline(x, "blur", MEAN, STD)
    assert blur.shape == x.shape and blur.std() < 0.5 * x.std()
    flat = torch.full_like(x, 0.3)
    torch.testing.assert_close(make_baseline(flat, "blur", MEAN, STD), flat)
    with pytest.raises(ValueError, match="unknown baseline 'white'"):
        make_baseline(x, "white", MEAN, STD)
