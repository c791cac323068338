"""`summary()`: per-layer shapes, parameters, FLOPs and activation memory of a DCRN, from its config.

Everything is computed analytically (no model is built, no forward pass runs), so a widget can
call it on every slider move.

FLOPs of the forward pass follow the convention stated once in `stages.py`; a training step = forward + backward: each matrix product's backward costs 2x its forward
(gradients for its input and for its weights), except the first layer, whose input needs no
gradient (1x); elementwise ops cost 1x forward again. The optimizer update is not counted.
Activation memory: bytes of each layer's output for the whole batch in fp32; views (flatten)
and the last-state readout cost 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from labkit.errors import LabkitError
from .config import DCRNConfig
from .stages import plan

_BYTES = 4  # fp32
COLUMNS = ["layer", "type", "output_shape", "params", "flops", "matmul_flops", "activation_bytes"]


@dataclass
class ModelSummary:
    """`table`: one row per layer (COLUMNS); `totals`: params, trainable_params, flops (forward,
    whole batch), flops_per_clip, training_flops (one step on the batch), activation_bytes,
    param_bytes, input_bytes, frame_dim, feature_dim, batch, frames, size."""

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

    The rows are the stages' own plans (`stages.plan`). Raises ValueError (from
    `DCRNConfig.validate`) when the config cannot be built.
    """
    cfg: DCRNConfig = getattr(config, "config", config)
    if size is not None and size != cfg.img_size:
        cfg = cfg.replace(img_size=size)
    cfg.validate()
    if frames < 1 or batch < 1:
        raise LabkitError(f"frames={frames} and batch={batch} must both be >= 1")
    p = plan(cfg, batch, frames)
    table = pd.DataFrame([dict(layer=r.name, type=r.type, output_shape=r.output_shape, params=r.params,
                               flops=r.matmul_flops + r.elementwise_flops, matmul_flops=r.matmul_flops,
                               activation_bytes=math.prod(r.output_shape) * _BYTES if r.stored else 0)
                          for r in p.layers], columns=COLUMNS)
    params, matmul, flops = (int(table[c].sum()) for c in ("params", "matmul_flops", "flops"))
    first = next((r.matmul_flops for r in p.layers if r.matmul_flops), 0)  # its input needs no gradient
    totals = dict(
        params=params, trainable_params=params, flops=flops, flops_per_clip=flops // batch,
        training_flops=3 * matmul - first + 2 * (flops - matmul),
        activation_bytes=int(table["activation_bytes"].sum()), param_bytes=params * _BYTES,
        input_bytes=batch * frames * cfg.in_chans * cfg.img_size ** 2 * _BYTES, frame_dim=p.frame_dim,
        feature_dim=p.feature_dim, batch=batch, frames=frames, size=cfg.img_size,
    )
    return ModelSummary(table, totals)


def training_flops(config, batch: int = 32, frames: int = 16, size: int | None = None) -> int:
    """Analytic FLOPs of one training step (forward + backward, convention in the module docstring)."""
    return summary(config, frames=frames, size=size, batch=batch).totals["training_flops"]
