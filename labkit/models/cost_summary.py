"""`summary()`: per-layer shapes, parameters, FLOPs and activation memory of a DCRN, from its config.

Everything is computed analytically (no model is built, no forward pass runs), so a widget can
call it on every slider move.

FLOPs of the forward pass follow the convention stated once in `stages.py`; a training step =
forward + backward: each matrix product's backward costs 2x its forward (gradients for its input
and for its weights), except the first layer with parameters, whose input needs no gradient (1x);
elementwise ops cost 1x forward again; layers before any parameter (a hand-crafted frame
encoder) are never differentiated and cost their forward only. The optimizer update is not counted.
Activation memory: bytes of each layer's output for the whole batch in fp32; views (flatten)
and the last-state readout cost 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from labkit.errors import LabkitError
from .config import DCRNConfig
from .rows import Layer
from .stages import plan

_BYTES = 4  # fp32
COLUMNS = ["layer", "type", "output_shape", "params", "flops", "matmul_flops", "activation_bytes"]


@dataclass
class ModelSummary:
    """`table`: one row per layer (COLUMNS); `totals`: params, trainable_params, flops (forward,
    whole batch), flops_per_clip, training_flops (one step on the batch), activation_bytes,
    param_bytes, input_bytes, frame_dim, feature_dim, map_shape (the frame encoder's (C, h, w)),
    batch, frames, size."""

    table: pd.DataFrame
    totals: dict

    def __repr__(self) -> str:
        t = self.totals
        return (self.table.to_string(index=False) + f"\nparams {t['params']:,}  forward GFLOPs "
                f"{t['flops'] / 1e9:.3f}  training GFLOPs {t['training_flops'] / 1e9:.3f}  "
                f"activations {t['activation_bytes'] / 2**20:.1f} MiB")


def summary(config, frames: int = 16, size: int | None = None, batch: int = 1) -> ModelSummary:
    """Shapes, parameters, FLOPs and activation memory of `config` (a DCRNConfig or a DCRN) for
    `batch` clips of `frames` x `size` x `size` (size defaults to config.img_size).

    The rows are the stages' own plans (`stages.plan`); a user's frame encoder is measured on the
    model's own module (given a DCRN) or on one its factory builds (given a config). Raises
    ValueError (from `DCRNConfig.validate`) when the config cannot be built.
    """
    cfg: DCRNConfig = getattr(config, "config", config)
    encoder = config.frame_encoder if cfg is not config else None  # a DCRN's module
    if size is not None and size != cfg.img_size:
        cfg = cfg.replace(img_size=size)
    cfg.validate()
    if frames < 1 or batch < 1:
        raise LabkitError(f"frames={frames} and batch={batch} must both be >= 1")
    p = plan(cfg, batch, frames, encoder=encoder)
    table = pd.DataFrame([dict(layer=r.name, type=r.type, output_shape=r.output_shape, params=r.params,
                               flops=r.matmul_flops + r.elementwise_flops, matmul_flops=r.matmul_flops,
                               activation_bytes=math.prod(r.output_shape) * _BYTES if r.stored else 0)
                          for r in p.layers], columns=COLUMNS)
    params, flops = (int(table[c].sum()) for c in ("params", "flops"))
    totals = dict(
        params=params, trainable_params=params, flops=flops, flops_per_clip=flops // batch,
        training_flops=_training_flops(p.layers),
        activation_bytes=int(table["activation_bytes"].sum()), param_bytes=params * _BYTES,
        input_bytes=batch * frames * cfg.in_chans * cfg.img_size ** 2 * _BYTES, frame_dim=p.frame_dim,
        feature_dim=p.feature_dim, map_shape=p.map_shape, batch=batch, frames=frames, size=cfg.img_size,
    )
    return ModelSummary(table, totals)


def _training_flops(layers: list[Layer]) -> int:
    """Forward + backward FLOPs of one step over the rows, as the module docstring counts them."""
    total, learning = 0, False  # learning: a layer with parameters came before (or is this one)
    for r in layers:
        if not learning and not r.params:
            total += r.matmul_flops + r.elementwise_flops  # nothing before it learns: no backward
            continue
        total += (3 if learning else 2) * r.matmul_flops + 2 * r.elementwise_flops
        learning = True
    return total


def training_flops(config, batch: int = 32, frames: int = 16, size: int | None = None) -> int:
    """Analytic FLOPs of one training step (forward + backward, convention in the module docstring)."""
    return summary(config, frames=frames, size=size, batch=batch).totals["training_flops"]
