"""Baselines in the normalised input space."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

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


def _reference_blur(x, sigma):
    """The filter written the slow, obvious way: reflect-pad, then a 1-D convolution per axis."""
    N, T, C, H, W = x.shape
    img = x.reshape(-1, 1, H, W)
    for axis, n in ((3, W), (2, H)):
        r = min(math.ceil(3 * sigma), n - 1)
        t = torch.arange(-r, r + 1, dtype=x.dtype)
        k = torch.exp(-0.5 * (t / sigma) ** 2)
        k = (k / k.sum()).view(1, 1, 1, -1) if axis == 3 else (k / k.sum()).view(1, 1, -1, 1)
        pad = (r, r, 0, 0) if axis == 3 else (0, 0, r, r)
        img = F.conv2d(F.pad(img, pad, mode="reflect"), k)
    return img.reshape(N, T, C, H, W)


@pytest.mark.parametrize("shape", [(1, 16, 3, 64, 64), (2, 3, 1, 12, 40), (1, 2, 3, 5, 7)])
def test_blur_is_the_reflected_gaussian_filter(shape):
    """The matrix form equals pad-and-convolve, on square, wide and tiny frames (radius clipped)."""
    x = torch.randn(shape)
    sigma = max(1.0, shape[-1] / 10)
    torch.testing.assert_close(make_baseline(x, "blur", MEAN, STD), _reference_blur(x, sigma), rtol=1e-5, atol=1e-5)
