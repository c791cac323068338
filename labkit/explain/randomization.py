"""Cascading model-parameter randomisation (Adebayo et al., "Sanity checks for saliency maps", 2018).

Re-initialise the head, then the temporal model (`rnn`, `tcn`, `attention` or `convlstm`), then
the conv blocks from the top (a user's frame encoder: the whole `encoder`; a hand-crafted one has
no weights to randomise), one more at each step; if the maps barely change, they show the input,
not what the model learned.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

from .core import attribute


def cascade(model) -> list[str]:
    """Names of the parts re-initialised in turn: head, the temporal module (if any) under its
    name (`model.temporal_name`: rnn, tcn, attention, convlstm), blocks.k ... blocks.0 (or
    `encoder`, when the frame encoder is a user's module with weights)."""
    names = ["head"] + ([model.temporal_name] if model.temporal_name is not None else [])
    if model.blocks is not None:
        return names + [f"blocks.{k}" for k in reversed(range(len(model.blocks)))]
    learned = next(model.frame_encoder.parameters(), None) is not None
    return names + ([model.frame_encoder_name] if learned else [])


def reinitialize(module: torch.nn.Module, generator: torch.Generator) -> None:
    """Redraw every parameter from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with a local generator.

    That is PyTorch's default range for conv and linear weights; biases and norm scales use
    their own length as fan-in. Drawn on the CPU, so the result does not depend on the device.
    """
    with torch.no_grad():
        for p in module.parameters():
            fan_in = p.shape[1] * math.prod(p.shape[2:]) if p.dim() >= 2 else p.numel()
            bound = 1.0 / math.sqrt(fan_in)
            p.copy_(torch.empty(p.shape).uniform_(-bound, bound, generator=generator))


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Rank correlation of two maps (flattened); 0 where either is constant (no ranking at all)."""
    a, b = a.reshape(-1), b.reshape(-1)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)


def randomization_check(model, clips, method: str = "integrated_gradients", target=None, seed: int = 0,
                        classes=None, memory_mb: float | None = None, lengths=None, **params) -> pd.DataFrame:
    """Rank correlation between the maps of the model and of ever more randomised copies.

    The model itself is never touched (a deep copy is randomised). The target stays the one of
    the original model (its prediction when target is None), so only the weights change.
    Returns clip, step (0 = original), layer (the part just re-initialised), spearman (on
    |maps|, as Adebayo et al.) and spearman_signed (on signed maps). lengths: as for `attribute`
    (a padded batch); the correlations then cover each clip's own frames only.
    """
    kw = dict(classes=classes, memory_mb=memory_mb, lengths=lengths, **params)
    original = attribute(model, clips, target=target, method=method, **kw)
    copy_ = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(seed)
    rows = [{"clip": i, "step": 0, "layer": "original", "spearman": 1.0, "spearman_signed": 1.0}
            for i in range(len(original))]
    for step, name in enumerate(cascade(model), start=1):
        reinitialize(copy_.get_submodule(name), generator)
        rand = attribute(copy_, clips, target=original.target, method=method, **kw)
        for i in range(len(original)):
            L = original.maps.shape[1] if original.lengths is None else original.lengths[i]
            rows.append({"clip": i, "step": step, "layer": name,
                         "spearman": _spearman(original.abs_maps[i, :L], rand.abs_maps[i, :L]),
                         "spearman_signed": _spearman(original.maps[i, :L], rand.maps[i, :L])})
    return pd.DataFrame(rows)
