"""Named model presets: tiny entries over one builder."""
from __future__ import annotations

import torch

from labkit.errors import UnknownNameError
from .config import DCRNConfig
from .dcrn import DCRN

_DEFAULT_CNN = dict(conv_channels=(8, 32), stem_stride=2, kernel_size=3, padding=1, pool=2, batch_norm=True,
                    frame_readout="keypoints")

PRESETS: dict[str, dict] = {
    # the Keras reference: TimeDistributed(Conv2D(32, 3x3, relu)) -> MaxPool 2x2 -> Flatten
    # -> LSTM(64) -> Dense(64, relu) -> Dense(num_classes)
    "seed": dict(conv_channels=(32,), kernel_size=3, padding=0, pool=2, frame_readout="flatten",
                 cell="lstm", hidden_size=64, head_hidden=64, rnn_bias="single"),
    # the lab's default: a strided stem and two small blocks (64 -> 32 -> 16 -> 8 pixels), a
    # "keypoints" readout that keeps *where* each channel fires (a global average pool would
    # lose the position that motion is made of), a GRU; 1/13 of seed's FLOPs, 1/200 of its
    # weights, and it learns `direction` (95% val. accuracy after ~4-5 epochs of 1,600 clips at
    # lr 3e-3) where flatten/GAP variants of the same cost were still at chance after 2 epochs
    "default": _DEFAULT_CNN | dict(cell="gru", hidden_size=64, rnn_bias="double", head_hidden=64),
    # the same CNN with the recurrence replaced by a mean over time
    "frame-only": _DEFAULT_CNN | dict(cell="none", head_hidden=64),
}


def preset_config(name: str, **overrides) -> DCRNConfig:
    """The DCRNConfig of a named preset, with fields overridden (e.g. num_classes=8)."""
    if name not in PRESETS:
        raise UnknownNameError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return DCRNConfig(**{**PRESETS[name], **overrides})


def preset(name: str, num_classes: int = 10, seed: int | None = None, **overrides) -> DCRN:
    """Build a preset model: `preset("seed", num_classes=ds.num_classes)`.

    `seed` makes the initial weights reproducible (without touching the global random state);
    comparisons such as LSTM vs GRU are fairer when every model starts from a seeded draw.
    """
    return build(preset_config(name, num_classes=num_classes, **overrides), seed=seed)


def build(config: DCRNConfig, seed: int | None = None, frame_encoder: torch.nn.Module | None = None) -> DCRN:
    """`DCRN(config)`, its initial weights drawn from `seed` when given (global RNG untouched).

    frame_encoder: your own nn.Module in the place of the CNN (frames (N, C, H, W) -> maps
    (N, C', h, w) or vectors (N, F)); its weights are kept as they are, and the config records
    its factory (its class, or the "package.module:qualname" already in config.frame_encoder,
    called with config.encoder_kwargs) so that `runs.load` can build it again.
    """
    if seed is None:
        return DCRN(config, frame_encoder)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return DCRN(config, frame_encoder)
