"""Reference inputs ("what is absent") for integrated gradients, DeepLift, occlusion and ablation.

All baselines live in the model's normalised input space, like the clips they stand in for.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

BASELINES = ("black", "blur", "temporal_mean")


def make_baseline(x: torch.Tensor, kind: str, mean, std) -> torch.Tensor:
    """A baseline shaped like `x` (N, T, C, H, W), normalised with the model's mean/std.

    "black": every pixel 0 before normalisation. "blur": each frame Gaussian-blurred with
    sigma = H / 10 (shapes gone, colours kept). "temporal_mean": every frame replaced by the
    clip's mean frame (what stays still is kept, what moves is removed).
    """
    if kind == "black":
        m = torch.as_tensor(mean, dtype=x.dtype, device=x.device).view(1, 1, -1, 1, 1)
        s = torch.as_tensor(std, dtype=x.dtype, device=x.device).view(1, 1, -1, 1, 1)
        return ((0.0 - m) / s).expand_as(x).contiguous()
    if kind == "blur":
        return _gaussian_blur(x, sigma=max(1.0, x.shape[-1] / 10))
    if kind == "temporal_mean":
        return x.mean(dim=1, keepdim=True).expand_as(x).contiguous()
    raise ValueError(f"unknown baseline {kind!r}; choose one of {list(BASELINES)}")


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of every frame and channel: (N, T, C, H, W) -> same shape."""
    N, T, C, H, W = x.shape
    radius = min(int(math.ceil(3 * sigma)), min(H, W) - 1)  # reflect padding needs radius < side
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    img = x.reshape(N * T * C, 1, H, W)  # every channel of every frame as one image
    img = F.conv2d(F.pad(img, (radius, radius, 0, 0), mode="reflect"), k.view(1, 1, 1, -1))
    img = F.conv2d(F.pad(img, (0, 0, radius, radius), mode="reflect"), k.view(1, 1, -1, 1))
    return img.reshape(N, T, C, H, W)
