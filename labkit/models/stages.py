"""The four stages of a DCRN, each owning its module, its output shape, its parameters and its FLOPs.

    frame encoder (CNN per frame) -> frame readout (map -> vector) -> temporal model -> head

Every stage has `plan(cfg, batch, frames, ...)`: the summary rows (`Layer`, counts for the
whole batch) and the shape it hands on, computed from the config alone (no module is built, no
forward pass runs). `DCRN` builds the modules and reads its feature sizes from the same plans;
`models.summary` tabulates the rows. Adding a stage variant means one class here.

FLOP convention (used by every plan):
- matrix products (conv, linear, the recurrent input and hidden projections): 2 FLOPs per
  multiply-add, exactly what `torch.utils.flop_counter` counts for conv/linear;
- every elementwise op (bias add, batch norm = 2, activation, pooling comparison, gate
  arithmetic) counts 1 FLOP per output element;
- a recurrent layer costs, per frame, per direction and per layer, matmul `2*G*H*(in + H)` plus
  elementwise `G*H*(1 + biases) + G*H + cell_ops*H`, with G = 4/3/1 gates for lstm/gru/rnn,
  `1 + biases` the adds joining the input projection, the hidden projection and 1 ("single") or
  2 ("double") bias vectors, `G*H` one activation per gate value, and cell_ops = 5/6/0 (LSTM:
  c = f*c + i*g is 3, tanh(c) and o*tanh(c) are 2; GRU: r*(W_hn h), the add, 1 - z, (1-z)*n,
  z*h and the final add are 6).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .config import MONOTONE_ACTIVATIONS, DCRNConfig

_ACT = {"relu": nn.ReLU, "gelu": nn.GELU, "elu": nn.ELU, "tanh": nn.Tanh}


@dataclass(frozen=True)
class Layer:
    """One row of `models.summary`: a layer's output shape and its counts for the whole batch.

    `stored`: its output is a new tensor kept for backward (False for views and the last-state
    readout, which cost no activation memory)."""

    name: str
    type: str
    output_shape: tuple
    params: int = 0
    matmul_flops: int = 0
    elementwise_flops: int = 0
    stored: bool = True


# ---- 1. frame encoder: a CNN on every frame --------------------------------------------------
class ConvBlock(nn.Sequential):
    """conv -> [batch norm] -> activation -> [max pool]; (N, C_in, H, W) -> (N, C_out, H', W').

    Children keep that order (and names 0, 1, ...). When the activation is non-decreasing
    (relu, elu, tanh) forward runs the pool *before* it: max-pooling commutes with such a function,
    so the output and gradients are the same, but the activation and its backward touch pool**2
    times fewer elements - on the seed model that is the largest memory-bound cost of a step.
    Hooks on the activation module therefore see the pooled tensor; hook the block for its output.
    """

    def __init__(self, c_in: int, c_out: int, cfg: DCRNConfig, stride: int = 1):
        layers = [nn.Conv2d(c_in, c_out, cfg.kernel_size, stride=stride, padding=cfg.padding,
                            bias=not cfg.batch_norm)]
        if cfg.batch_norm:
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(_ACT[cfg.activation]())
        if cfg.pool > 1:
            layers.append(nn.MaxPool2d(cfg.pool))
        super().__init__(*layers)
        self.pool_first = _pool_first(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.pool_first:
            return super().forward(x)
        *pre, act, pool = self  # conv [, bn], act, pool
        for layer in pre:
            x = layer(x)
        return act(pool(x))


def _pool_first(cfg: DCRNConfig) -> bool:
    return cfg.pool > 1 and cfg.activation in MONOTONE_ACTIVATIONS


class ConvEncoder(nn.Sequential):
    """The per-frame CNN, `model.blocks`: ConvBlocks, (N, C, H, W) -> feature maps (N, C', H', W')."""

    def __init__(self, cfg: DCRNConfig):
        chans = (cfg.in_chans, *cfg.conv_channels)
        super().__init__(*[ConvBlock(a, b, cfg, stride=cfg.stem_stride if i == 0 else 1)
                           for i, (a, b) in enumerate(zip(chans[:-1], chans[1:]))])

    @staticmethod
    def plan(cfg: DCRNConfig, batch: int, frames: int) -> tuple[list[Layer], tuple[int, int, int]]:
        """Rows of every block ((B, T, C, H, W) outputs) and the map shape per frame (C', H', W')."""
        B, T, N = batch, frames, batch * frames
        rows, c, side, k = [], cfg.in_chans, cfg.img_size, cfg.kernel_size
        for i, (c_out, (conv_side, pooled)) in enumerate(zip(cfg.conv_channels, cfg.frame_sides())):
            bias, out = not cfg.batch_norm, N * c_out * conv_side * conv_side
            stride = f" /{cfg.stem_stride}" if i == 0 and cfg.stem_stride > 1 else ""
            rows.append(Layer(f"blocks.{i}.0", f"Conv2d {c}->{c_out} {k}x{k}{stride}",
                              (B, T, c_out, conv_side, conv_side), params=c * k * k * c_out + c_out * bias,
                              matmul_flops=2 * c * k * k * out, elementwise_flops=out * bias))
            j = 1
            if cfg.batch_norm:
                rows.append(Layer(f"blocks.{i}.1", "BatchNorm2d", (B, T, c_out, conv_side, conv_side),
                                  params=2 * c_out, elementwise_flops=2 * out))
                j = 2
            act_side = pooled if _pool_first(cfg) else conv_side
            act = Layer(f"blocks.{i}.{j}", cfg.activation, (B, T, c_out, act_side, act_side),
                        elementwise_flops=N * c_out * act_side * act_side)
            pool = Layer(f"blocks.{i}.{j + 1}", f"MaxPool2d {cfg.pool}", (B, T, c_out, pooled, pooled),
                         elementwise_flops=(cfg.pool ** 2 - 1) * N * c_out * pooled * pooled)
            rows += (pool, act) if _pool_first(cfg) else (act, pool) if cfg.pool > 1 else (act,)
            c, side = c_out, pooled
        return rows, (c, side, side)


# ---- 2. frame readout: a feature map -> one vector per frame ---------------------------------
KEYPOINT_SHARPNESS = 3.0


def keypoints(f: torch.Tensor) -> torch.Tensor:
    """Where and how much each channel fires: (N, C, H, W) -> (N, 3*C) = [x (C), y (C), mean (C)].

    x, y are the soft-argmax of the channel (softmax over its H*W positions, the expected
    coordinate) in cells of the map, counted from its centre; a moving object then moves these
    numbers linearly, by about its speed in cells per frame, so a recurrent layer reads motion
    as simple differences, where a global average would have lost position. The softmax runs on
    `KEYPOINT_SHARPNESS * f`: block outputs are O(1), and at 1 the softmax is so flat that every
    channel sits near the centre and training stalls; 3 made `default` learn `direction` about
    twice as fast as 1 or 8 in a short sweep.
    """
    N, C, H, W = f.shape
    p = (KEYPOINT_SHARPNESS * f.float()).flatten(2).softmax(-1).view(N, C, H, W)  # sums to 1 per channel
    ys = torch.linspace(-(H - 1) / 2, (H - 1) / 2, H, device=f.device)
    xs = torch.linspace(-(W - 1) / 2, (W - 1) / 2, W, device=f.device)
    x = p.sum(2) @ xs  # (N, C)
    y = p.sum(3) @ ys  # (N, C)
    return torch.cat([x, y, f.float().mean(dim=(2, 3))], dim=1).to(f.dtype)  # (N, 3C)


class FrameReadout(nn.Module):
    """Feature map (N, C, H, W) -> frame vector (N, F), no parameters.

    "flatten": (H, W, C) order, as Keras' channels-last Flatten (a view of a channels-last map);
    "gap": global average pool (what, not where); "keypoints": see `keypoints`.
    """

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        if self.kind == "gap":
            return f.mean(dim=(2, 3))  # (N, C)
        if self.kind == "keypoints":
            return keypoints(f)  # (N, 3C)
        return f.permute(0, 2, 3, 1).flatten(1)  # (N, H*W*C)

    @staticmethod
    def plan(cfg: DCRNConfig, batch: int, frames: int, map_shape: tuple[int, int, int]) -> tuple[list[Layer], int]:
        """The readout's row ((B, T, F) output) and the frame vector size F."""
        (c, h, w), N = map_shape, batch * frames
        if cfg.frame_readout == "gap":
            dim, kind, ops, stored = c, "global average pool", N * c * h * w, True
        elif cfg.frame_readout == "keypoints":  # softmax (exp, sum, divide), row/col sums, 2 dot products, mean
            dim, kind, ops, stored = 3 * c, "keypoints (soft-argmax x, y, mean)", 8 * N * c * h * w, True
        else:
            dim, kind, ops, stored = c * h * w, "flatten (H, W, C)", 0, False
        return [Layer("frame_readout", kind, (batch, frames, dim), elementwise_flops=ops, stored=stored)], dim


# ---- 3. temporal model: frame vectors (B, T, F) -> clip features (B, D) ----------------------
def masked_mean(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean over time of x (B, T, D), counting only frames where mask (B, T) is True -> (B, D)."""
    if mask is None:
        return x.mean(1)
    m = mask.to(x.dtype)[..., None]
    return (x * m).sum(1) / m.sum(1).clamp_min(1)


class MeanOverTime:
    """cell="none", the frame-only baseline: the mean of the valid frames' vectors; no module."""

    @staticmethod
    def build(cfg: DCRNConfig, in_dim: int) -> None:
        return None

    @staticmethod
    def forward(module, cfg: DCRNConfig, feats: torch.Tensor, lengths, mask) -> torch.Tensor:
        return masked_mean(feats, mask)

    @staticmethod
    def plan(cfg: DCRNConfig, batch: int, frames: int, in_dim: int) -> tuple[list[Layer], int]:
        return [Layer("temporal", "mean over time", (batch, in_dim),
                      elementwise_flops=batch * frames * in_dim)], in_dim


_RNN = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
_GATES = {"lstm": 4, "gru": 3, "rnn": 1}
_CELL_OPS = {"lstm": 5, "gru": 6, "rnn": 0}


def _single_bias(rnn: nn.RNNBase) -> None:
    """Keep one trainable bias per gate, as Keras' LSTM does: b_hh becomes a fixed zero buffer.

    For LSTM and RNN b_ih + b_hh is one bias written twice, so the model is the same and only the
    count changes; for GRU the candidate gate's b_hn sits inside the reset product, so "single"
    there is a slightly smaller model (Keras' reset_after GRU keeps both, i.e. "double").
    """
    for name in list(rnn._flat_weights_names):
        if name.startswith("bias_hh"):
            p = getattr(rnn, name)
            delattr(rnn, name)
            rnn.register_buffer(name, torch.zeros_like(p.data))
    rnn._init_flat_weights()


class Recurrent:
    """cell="rnn" | "lstm" | "gru": PyTorch's recurrent layer (`model.rnn`), read out at the last
    valid frame ("last") or as the mean of its outputs over valid frames ("mean")."""

    @staticmethod
    def build(cfg: DCRNConfig, in_dim: int) -> nn.RNNBase:
        rnn = _RNN[cfg.cell](in_dim, cfg.hidden_size, num_layers=cfg.num_layers, batch_first=True,
                             bidirectional=cfg.bidirectional, dropout=cfg.drop_rate if cfg.num_layers > 1 else 0.0)
        if cfg.rnn_bias == "single":
            _single_bias(rnn)
        return rnn

    @staticmethod
    def forward(rnn: nn.RNNBase, cfg: DCRNConfig, feats: torch.Tensor, lengths, mask) -> torch.Tensor:
        """(B, T, F) -> (B, D); with lengths, packed so padding never reaches the state."""
        if lengths is not None:
            packed = pack_padded_sequence(feats, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, h = rnn(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=feats.shape[1])  # (B, T, D)
        else:
            out, h = rnn(feats)  # (B, T, D); hidden state sized from the input batch
        if cfg.temporal_readout == "mean":
            return masked_mean(out, mask)
        h = h[0] if isinstance(h, tuple) else h  # (layers*dirs, B, H)
        if cfg.bidirectional:
            return torch.cat([h[-2], h[-1]], dim=1)  # (B, 2H): last forward and backward states
        return h[-1]  # (B, H): state after the last valid frame

    @staticmethod
    def plan(cfg: DCRNConfig, batch: int, frames: int, in_dim: int) -> tuple[list[Layer], int]:
        dirs, H, N = 2 if cfg.bidirectional else 1, cfg.hidden_size, batch * frames
        biases, g = 1 if cfg.rnn_bias == "single" else 2, _GATES[cfg.cell]
        kind = f"{cfg.cell.upper()} {in_dim}->{H}" + (" x2 dirs" if dirs == 2 else "") + \
            (f" x{cfg.num_layers} layers" if cfg.num_layers > 1 else "")
        params = matmul = elementwise = 0
        for _ in range(cfg.num_layers):
            params += dirs * (g * H * (in_dim + H) + biases * g * H)
            matmul += dirs * N * 2 * g * H * (in_dim + H)
            elementwise += dirs * N * (g * H * (1 + biases) + g * H + _CELL_OPS[cfg.cell] * H)
            in_dim = dirs * H
        rows = [Layer("rnn", kind, (batch, frames, dirs * H), params=params, matmul_flops=matmul,
                      elementwise_flops=elementwise)]
        if cfg.temporal_readout == "mean":
            rows.append(Layer("temporal", "mean over valid frames", (batch, dirs * H), elementwise_flops=N * dirs * H))
        else:
            rows.append(Layer("temporal", "last valid state", (batch, dirs * H), stored=False))
        return rows, dirs * H


TEMPORAL = {"none": MeanOverTime, "rnn": Recurrent, "lstm": Recurrent, "gru": Recurrent}


# ---- 4. head: clip features (B, D) -> logits (B, K) -------------------------------------------
class Head(nn.Sequential):
    """[Linear(head_hidden) -> ReLU -> Dropout] -> Linear(num_classes); head_hidden=0 drops the hidden layer."""

    def __init__(self, cfg: DCRNConfig, in_dim: int):
        layers = []
        if cfg.head_hidden:
            layers += [nn.Linear(in_dim, cfg.head_hidden), nn.ReLU(), nn.Dropout(cfg.drop_rate)]
            in_dim = cfg.head_hidden
        super().__init__(*layers, nn.Linear(in_dim, cfg.num_classes))

    @staticmethod
    def plan(cfg: DCRNConfig, batch: int, in_dim: int) -> list[Layer]:
        """Rows named as the module's children: head.0 [, head.1 relu], then the class layer."""
        def linear(name: str, a: int, b: int) -> Layer:
            return Layer(name, f"Linear {a}->{b}", (batch, b), params=a * b + b, matmul_flops=2 * batch * a * b,
                         elementwise_flops=batch * b)

        if not cfg.head_hidden:
            return [linear("head.0", in_dim, cfg.num_classes)]
        return [linear("head.0", in_dim, cfg.head_hidden),
                Layer("head.1", "relu", (batch, cfg.head_hidden), elementwise_flops=batch * cfg.head_hidden),
                linear("head.3", cfg.head_hidden, cfg.num_classes)]


@dataclass(frozen=True)
class Plan:
    """The whole network for `batch` clips of `frames` frames: every layer's row in order, the
    frame vector size F (into the temporal model) and the clip feature size D (into the head)."""

    layers: list[Layer]
    frame_dim: int
    feature_dim: int


def plan(cfg: DCRNConfig, batch: int = 1, frames: int = 1) -> Plan:
    """Plan every stage of `cfg` in order (analytic; the config must be valid)."""
    conv, map_shape = ConvEncoder.plan(cfg, batch, frames)
    readout, frame_dim = FrameReadout.plan(cfg, batch, frames, map_shape)
    temporal, feature_dim = TEMPORAL[cfg.cell].plan(cfg, batch, frames, frame_dim)
    return Plan(conv + readout + temporal + Head.plan(cfg, batch, feature_dim), frame_dim, feature_dim)
