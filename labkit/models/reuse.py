"""Reusing a trained body: a second head on the same modules (a pretext task), and the body's
weights copied from one model into another (fine-tuning from a pretraining run).

The body is everything but the head: the frame encoder, the frame readout and the temporal model.
"""
from __future__ import annotations

import torch.nn as nn

from labkit.errors import LabkitError
from .dcrn import DCRN
from .presets import build

BODY_PARTS = ("frame_encoder", "frame_readout", "frame_drop", "temporal_module")


def with_head(model: DCRN, num_classes: int, seed: int | None = None) -> DCRN:
    """A DCRN with `num_classes` outputs that SHARES `model`'s body (the same module objects:
    training it trains `model`'s frame encoder and temporal model) and has a new head, seeded
    by `seed`. Its config is `model.config` with num_classes replaced."""
    cfg = model.config.replace(num_classes=num_classes)
    other = build(cfg, seed=seed, frame_encoder=model.frame_encoder if cfg.user_encoder else None)
    for name in (model.frame_encoder_name, "frame_readout", "frame_drop", model.temporal_name):
        if name is not None:
            setattr(other, name, getattr(model, name))
    return other


def body_state(model: nn.Module) -> dict:
    """The state dict of everything but the head (keys as in the model's own state dict)."""
    return {k: v for k, v in model.state_dict().items() if not k.startswith("head.")}


def copy_body(source: DCRN, target: DCRN) -> DCRN:
    """Load `source`'s body weights (frame encoder, temporal model) into `target`, whose head is
    left as it is: fine-tuning from a pretrained model (e.g. `runs.load` of a `train.pretrain`
    run) on a task with other classes. The two bodies must be configured alike."""
    mine = {k: v for k, v in source.config.to_dict().items() if k != "num_classes"}
    theirs = {k: v for k, v in target.config.to_dict().items() if k != "num_classes"}
    diff = sorted(k for k in mine if mine[k] != theirs[k])
    if diff:
        raise LabkitError(f"copy_body: the two models differ in {diff}; build the target with the source's config "
                          f"(source.config.replace(num_classes=...))")
    target.load_state_dict({**target.state_dict(), **body_state(source)})
    return target
