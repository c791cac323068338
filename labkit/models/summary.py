"""`summary()`: per-layer shapes, parameters, FLOPs and activation memory of a DCRN, from its config.

Everything is computed analytically (no model is built, no forward pass runs), so a widget can
call it on every slider move.

FLOP convention (stated once, used everywhere):
- matrix products (conv, linear, the recurrent input and hidden projections): 2 FLOPs per
  multiply-add, exactly what `torch.utils.flop_counter` counts for conv/linear;
- every elementwise op (bias add, batch norm = 2, activation, pooling comparison, gate
  arithmetic) counts 1 FLOP per output element;
- a recurrent layer costs, per frame, per direction and per layer,
  matmul `2*G*H*(in + H)` plus elementwise `G*H*(1 + biases) + G*H + cell_ops*H`, with
  G = 4/3/1 gates for lstm/gru/rnn, `1 + biases` the adds joining the input projection, the
  hidden projection and 1 ("single") or 2 ("double") bias vectors, `G*H` one activation per gate
  value, and cell_ops = 5/6/0 (LSTM: c = f*c + i*g is 3, tanh(c) and o*tanh(c) are 2;
  GRU: r*(W_hn h), the add, 1 - z, (1-z)*n, z*h and the final add are 6).
- a training step = forward + backward: each matrix product's backward costs 2x its forward
  (gradients for its input and for its weights), except the first layer, whose input needs no
  gradient (1x); elementwise ops cost 1x forward again. The optimizer update is not counted.
Activation memory: bytes of each layer's output for the whole batch in fp32; views (flatten)
and the last-state readout cost 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .config import MONOTONE_ACTIVATIONS, DCRNConfig

_GATES = {"lstm": 4, "gru": 3, "rnn": 1}
_CELL_OPS = {"lstm": 5, "gru": 6, "rnn": 0}
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


def _recurrent_flops(cell: str, in_dim: int, hidden: int, biases: int) -> tuple[int, int]:
    """(matmul, elementwise) FLOPs of one recurrent step, one direction, one layer."""
    g = _GATES[cell]
    matmul = 2 * g * hidden * (in_dim + hidden)
    elementwise = g * hidden * (1 + biases) + g * hidden + _CELL_OPS[cell] * hidden
    return matmul, elementwise


def summary(config, frames: int = 16, size: int | None = None, batch: int = 1) -> ModelSummary:
    """Shapes, parameters, FLOPs and activation memory of `config` (a DCRNConfig or a DCRN) for
    `batch` clips of `frames` x `size` x `size` (size defaults to config.img_size).

    Raises ValueError (from `DCRNConfig.validate`) when the config cannot be built.
    """
    cfg: DCRNConfig = getattr(config, "config", config)
    if size is not None and size != cfg.img_size:
        cfg = cfg.replace(img_size=size)
    cfg.validate()
    if frames < 1 or batch < 1:
        raise ValueError(f"frames={frames} and batch={batch} must both be >= 1")
    B, T, N = batch, frames, batch * frames  # N: frames folded into the batch
    rows: list[dict] = []

    def add(layer, kind, shape, params=0, matmul=0, elementwise=0, stored=True):
        numel = 1
        for d in shape:
            numel *= d
        rows.append(dict(layer=layer, type=kind, output_shape=tuple(shape), params=params,
                         flops=matmul + elementwise, matmul_flops=matmul,
                         activation_bytes=numel * _BYTES if stored else 0))

    # ---- per-frame CNN: (B, T, C, H, W) ----
    c, side, k = cfg.in_chans, cfg.img_size, cfg.kernel_size
    for i, (c_out, (conv_side, pooled)) in enumerate(zip(cfg.conv_channels, cfg.frame_sides())):
        bias = not cfg.batch_norm
        out = N * c_out * conv_side * conv_side
        stride = f" /{cfg.stem_stride}" if i == 0 and cfg.stem_stride > 1 else ""
        add(f"blocks.{i}.0", f"Conv2d {c}->{c_out} {k}x{k}{stride}", (B, T, c_out, conv_side, conv_side),
            params=c * k * k * c_out + c_out * bias, matmul=2 * c * k * k * out, elementwise=out * bias)
        j = 1
        if cfg.batch_norm:
            add(f"blocks.{i}.1", "BatchNorm2d", (B, T, c_out, conv_side, conv_side), params=2 * c_out,
                elementwise=2 * out)
            j = 2
        pool_first = cfg.pool > 1 and cfg.activation in MONOTONE_ACTIVATIONS
        act_side = pooled if pool_first else conv_side
        act = (f"blocks.{i}.{j}", cfg.activation, (B, T, c_out, act_side, act_side), 0, 0,
               N * c_out * act_side * act_side)
        pool = (f"blocks.{i}.{j + 1}", f"MaxPool2d {cfg.pool}", (B, T, c_out, pooled, pooled), 0, 0,
                (cfg.pool ** 2 - 1) * N * c_out * pooled * pooled)
        for row in ((pool, act) if pool_first else (act, pool) if cfg.pool > 1 else (act,)):
            add(*row)
        c, side = c_out, pooled
    if cfg.frame_readout == "gap":
        frame_dim = c
        add("frame_readout", "global average pool", (B, T, frame_dim), elementwise=N * c * side * side)
    elif cfg.frame_readout == "keypoints":  # softmax (exp, sum, divide), row/col sums, 2 dot products, mean
        frame_dim = 3 * c
        add("frame_readout", "keypoints (soft-argmax x, y, mean)", (B, T, frame_dim),
            elementwise=8 * N * c * side * side)
    else:
        frame_dim = c * side * side
        add("frame_readout", "flatten (H, W, C)", (B, T, frame_dim), stored=False)

    # ---- recurrence over frames ----
    if cfg.cell == "none":
        feature_dim = frame_dim
        add("temporal", "mean over time", (B, feature_dim), elementwise=N * frame_dim)
    else:
        dirs, H = 2 if cfg.bidirectional else 1, cfg.hidden_size
        biases = 1 if cfg.rnn_bias == "single" else 2
        g = _GATES[cfg.cell]
        params = matmul = elementwise = 0
        in_dim = frame_dim
        for _ in range(cfg.num_layers):
            params += dirs * (g * H * (in_dim + H) + biases * g * H)
            mm, ew = _recurrent_flops(cfg.cell, in_dim, H, biases)
            matmul += dirs * N * mm
            elementwise += dirs * N * ew
            in_dim = dirs * H
        feature_dim = dirs * H
        shape = f"{cfg.cell.upper()} {frame_dim}->{H}" + (" x2 dirs" if dirs == 2 else "") + \
            (f" x{cfg.num_layers} layers" if cfg.num_layers > 1 else "")
        add("rnn", shape, (B, T, feature_dim), params=params, matmul=matmul, elementwise=elementwise)
        if cfg.temporal_readout == "mean":
            add("temporal", "mean over valid frames", (B, feature_dim), elementwise=N * feature_dim)
        else:
            add("temporal", "last valid state", (B, feature_dim), stored=False)

    # ---- head ----
    width, idx = feature_dim, 0
    if cfg.head_hidden:
        add("head.0", f"Linear {width}->{cfg.head_hidden}", (B, cfg.head_hidden),
            params=width * cfg.head_hidden + cfg.head_hidden, matmul=2 * B * width * cfg.head_hidden,
            elementwise=B * cfg.head_hidden)
        add("head.1", "relu", (B, cfg.head_hidden), elementwise=B * cfg.head_hidden)
        width, idx = cfg.head_hidden, 3
    add(f"head.{idx}", f"Linear {width}->{cfg.num_classes}", (B, cfg.num_classes),
        params=width * cfg.num_classes + cfg.num_classes, matmul=2 * B * width * cfg.num_classes,
        elementwise=B * cfg.num_classes)

    table = pd.DataFrame(rows, columns=COLUMNS)
    params = int(table["params"].sum())
    matmul = int(table["matmul_flops"].sum())
    flops = int(table["flops"].sum())
    first = next((r["matmul_flops"] for r in rows if r["matmul_flops"]), 0)  # its input needs no gradient
    totals = dict(
        params=params, trainable_params=params, flops=flops, flops_per_clip=flops // B,
        training_flops=3 * matmul - first + 2 * (flops - matmul),
        activation_bytes=int(table["activation_bytes"].sum()), param_bytes=params * _BYTES,
        input_bytes=N * cfg.in_chans * cfg.img_size ** 2 * _BYTES, frame_dim=frame_dim,
        feature_dim=feature_dim, batch=B, frames=T, size=cfg.img_size,
    )
    return ModelSummary(table, totals)


def training_flops(config, batch: int = 32, frames: int = 16, size: int | None = None) -> int:
    """Analytic FLOPs of one training step (forward + backward, convention in the module docstring)."""
    return summary(config, frames=frames, size=size, batch=batch).totals["training_flops"]
