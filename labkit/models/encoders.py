"""Hand-crafted frame encoders: fixed functions of the pixels, with no parameters, in the place of
the learned CNN (`DCRNConfig.frame_encoder`). Each turns normalised frames (N, C, H, W) into a
feature map (N, C', h, w) on a grid of `encoder_cell` x `encoder_cell` pixel cells, which the
frame readout (flatten, gap, keypoints) and the temporal model read as they read the CNN's maps.

    "sobel"   edge energy: log(1 + mean over the cell of gx^2 + gy^2), one channel
    "hog"     histograms of oriented gradients: per cell, the gradient magnitude voting for
              `hog_bins` orientations over 0..180 degrees, log(1 + mean vote) per bin
    "pixels"  the frame itself, averaged over each cell (C channels)

"sobel" and "hog" then standardise each frame's map (zero mean, unit variance over its cells
and channels): the contrast of a clip stops mattering, and an object's edges stand several
units above a textured background, where raw energies were tenths apart and the keypoints
readout's soft-argmax (tuned to the CNN's O(1) outputs) saw a flat map and learned nothing.

Gradients gx, gy are the Sobel derivatives of the channel mean (one fixed conv, edges
replicated, so a frame's border is no edge). Every step is differentiable, so attribution
reaches the pixels through these encoders as through the CNN. The kernels are non-persistent
buffers: a checkpoint holds nothing for a hand-crafted encoder.

FLOPs follow `stages.py`'s convention: the gradient conv counts 2 per multiply-add (as torch's
FlopCounterMode does, over its full 3x3 x C kernel); every elementwise op 1 per output element;
a sum of k values k - 1, a mean of k values k (the adds and the divide), so average pooling
over a cell costs cell**2 per output; padding costs 0. Per pixel, "sobel" squares and adds the
two gradients (3); "hog" forms gx^2, gy^2, their sum + eps, its root, the doubled angle's cosine
(gx^2 - gy^2) / m^2 and sine 2 gx gy / m^2 (10 in all), then per bin cos(2(theta - phi_b)) as
cos2 cos_b + sin2 sin_b (3), clamps it at 0, raises it to the power bins - 1 and multiplies by
the magnitude (6 per bin); the log after pooling is 1 per output; standardising K values costs
5K + 2 (mean K, centre K, square K, mean K, + eps and root 2, divide K).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .rows import Layer

# added to the squared gradient magnitude: a flat patch (a saturated disc's inside, a uniform
# background) has gx = gy = 0, where the root and the angle would have no derivative
EPS = 1e-6


def _layer(name: str, kind: str, shape: tuple, matmul: int = 0, elementwise: int = 0) -> Layer:
    """A row of an encoder without parameters."""
    return Layer(name, kind, shape, params=0, matmul_flops=matmul, elementwise_flops=elementwise)


class ImageGradients(nn.Module):
    """Sobel derivatives of the channel mean: (N, C, H, W) -> (N, 2, H, W) = [gx, gy].

    One conv whose kernel is the Sobel pair divided by 8 (a unit step gives 1) and by C (the
    channel mean folded into the same conv)."""

    def __init__(self, in_chans: int):
        super().__init__()
        kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 8
        weight = torch.stack([kx, kx.T])[:, None].expand(2, in_chans, 3, 3) / in_chans  # (2, C, 3, 3)
        self.register_buffer("weight", weight.contiguous(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), self.weight)  # (N, 2, H, W)

    @staticmethod
    def row(cfg, batch: int, frames: int) -> Layer:
        """Its summary row ((B, T, 2, H, W) output); the conv runs on the whole padded frame."""
        C, S, N = cfg.in_chans, cfg.img_size, batch * frames
        return _layer("encoder.gradients", f"Sobel gx, gy of the channel mean (fixed 3x3, {C}->2)",
                      (batch, frames, 2, S, S), matmul=2 * N * 2 * S * S * C * 9)


def standardize(m: torch.Tensor) -> torch.Tensor:
    """Each frame's map (N, C, h, w) to zero mean and unit variance over its C*h*w values."""
    centred = m - m.mean((1, 2, 3), keepdim=True)
    return centred / (centred.pow(2).mean((1, 2, 3), keepdim=True) + EPS).sqrt()


def _standardize_flops(frames: int, values: int) -> int:
    return frames * (5 * values + 2)


def _cells(cfg) -> int:
    """Cells per side of the encoder's map (average pooling drops a remainder narrower than a cell)."""
    return cfg.img_size // cfg.encoder_cell


class SobelEncoder(nn.Module):
    """"sobel": edge energy per cell, (N, C, H, W) -> (N, 1, H // cell, W // cell)."""

    attr = "encoder"

    def __init__(self, cfg):
        super().__init__()
        self.cell = cfg.encoder_cell
        self.gradients = ImageGradients(cfg.in_chans)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = self.gradients(x)  # (N, 2, H, W)
        energy = (g * g).sum(1, keepdim=True)  # (N, 1, H, W): gx^2 + gy^2
        return standardize(torch.log1p(F.avg_pool2d(energy, self.cell)))  # (N, 1, h, w)

    @staticmethod
    def plan(cfg, batch: int, frames: int, module=None) -> tuple[list[Layer], tuple[int, int, int]]:
        S, c, h, N = cfg.img_size, cfg.encoder_cell, _cells(cfg), batch * frames
        pixels, outputs = N * S * S, N * h * h
        return [ImageGradients.row(cfg, batch, frames),
                _layer("encoder", f"edge energy, log(1 + mean) over {c}x{c} cells, standardised",
                       (batch, frames, 1, h, h),
                       elementwise=3 * pixels + (c * c + 1) * outputs + _standardize_flops(N, h * h))], (1, h, h)

    @staticmethod
    def opaque_ops(cfg) -> str:
        return "the Sobel encoder's squared gradients (products computed in its forward, not modules)"


class HOGEncoder(nn.Module):
    """"hog": a histogram of oriented gradients per cell, (N, C, H, W) -> (N, bins, h, w).

    Orientation is unsigned (0..180 degrees), read from the doubled angle (cos 2theta, sin 2theta)
    = ((gx^2 - gy^2), 2 gx gy) / m^2, which needs no atan2 (whose derivative is undefined on flat
    patches). Pixel votes go to bin b with weight m * max(0, cos 2(theta - phi_b))**(bins - 1): a
    smooth kernel about one bin wide (at 9 bins, a gradient at a bin's angle gives it its whole
    magnitude and each neighbour 0.12; one midway between two bins gives each 0.61 and the next
    ones 0.004), so the histogram changes smoothly with the image.
    """

    attr = "encoder"

    def __init__(self, cfg):
        super().__init__()
        self.cell, self.bins = cfg.encoder_cell, cfg.hog_bins
        self.gradients = ImageGradients(cfg.in_chans)
        phi = 2 * math.pi * torch.arange(self.bins) / self.bins  # doubled bin angles 2 * (180 b / bins)
        self.register_buffer("cos_b", phi.cos().view(1, -1, 1, 1), persistent=False)
        self.register_buffer("sin_b", phi.sin().view(1, -1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gx, gy = self.gradients(x).unbind(1)  # (N, H, W) each
        gx2, gy2 = gx * gx, gy * gy
        m2 = gx2 + gy2 + EPS
        mag = m2.sqrt()
        cos2, sin2 = (gx2 - gy2) / m2, 2 * gx * gy / m2  # the doubled angle
        near = cos2[:, None] * self.cos_b + sin2[:, None] * self.sin_b  # (N, bins, H, W): cos 2(theta - phi_b)
        votes = near.clamp_min(0).pow(self.bins - 1) * mag[:, None]  # (N, bins, H, W)
        return standardize(torch.log1p(F.avg_pool2d(votes, self.cell)))  # (N, bins, h, w)

    @staticmethod
    def plan(cfg, batch: int, frames: int, module=None) -> tuple[list[Layer], tuple[int, int, int]]:
        S, c, h, N, B = cfg.img_size, cfg.encoder_cell, _cells(cfg), batch * frames, cfg.hog_bins
        pixels = N * S * S
        return [ImageGradients.row(cfg, batch, frames),
                _layer("encoder.votes", f"orientation votes, {B} bins over 0..180 degrees", (batch, frames, B, S, S),
                       elementwise=(10 + 6 * B) * pixels),
                _layer("encoder", f"histograms, log(1 + mean) over {c}x{c} cells, standardised",
                       (batch, frames, B, h, h),
                       elementwise=(c * c + 1) * N * B * h * h + _standardize_flops(N, B * h * h))], (B, h, h)

    @staticmethod
    def opaque_ops(cfg) -> str:
        return "the HOG encoder's gradient products and orientation kernel (computed in its forward, not modules)"


class PixelEncoder(nn.Module):
    """"pixels": the normalised frame averaged over each cell, (N, C, H, W) -> (N, C, h, w)."""

    attr = "encoder"

    def __init__(self, cfg):
        super().__init__()
        self.cell = cfg.encoder_cell

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, self.cell)  # (N, C, h, w)

    @staticmethod
    def plan(cfg, batch: int, frames: int, module=None) -> tuple[list[Layer], tuple[int, int, int]]:
        c, h, C = cfg.encoder_cell, _cells(cfg), cfg.in_chans
        return [_layer("encoder", f"pixels, mean over {c}x{c} cells", (batch, frames, C, h, h),
                       elementwise=c * c * batch * frames * C * h * h)], (C, h, h)

    @staticmethod
    def opaque_ops(cfg) -> None:
        return None  # average pooling is linear: nothing for DeepLift to rescale


HAND_CRAFTED_ENCODERS = {"sobel": SobelEncoder, "hog": HOGEncoder, "pixels": PixelEncoder}
