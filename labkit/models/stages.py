"""The four stages of a DCRN, each owning its module, its output shape, its parameters and its FLOPs.

    frame encoder (CNN per frame) -> frame readout (map -> vector) -> temporal model -> head

The frame encoder is the learned CNN here (`ConvEncoder`), a hand-crafted one (`encoders.py`)
or a user's module (`user_encoder.py`): `ENCODERS` / `encoder_stage(cfg)`.

Every stage has `plan(cfg, batch, frames, ...)`: the summary rows (`Layer`, counts for the
whole batch) and the shape it hands on, computed from the config alone (no module is built, no
forward pass runs). `DCRN` builds the modules and reads its feature sizes from the same plans;
`models.summary` tabulates the rows. Adding a stage variant means one class here (and its
nn.Module, where PyTorch has none, in `sequence_layers.py`).

FLOP convention (used by every plan):
- matrix products (conv, linear, the recurrent input and hidden projections, attention's two
  products): 2 FLOPs per multiply-add, exactly what `torch.utils.flop_counter` counts for
  conv/linear/bmm;
- every elementwise op (bias add, batch norm = 2, activation, pooling comparison, gate
  arithmetic, residual add) counts 1 FLOP per output element; padding, views, selects and
  masking (a select, not arithmetic) count 0;
- a recurrent layer costs, per frame, per direction and per layer, matmul `2*G*H*(in + H)` plus
  elementwise `G*H*(1 + biases) + G*H + cell_ops*H`, with G = 4/3/1 gates for lstm/gru/rnn,
  `1 + biases` the adds joining the input projection, the hidden projection and 1 ("single") or
  2 ("double") bias vectors, `G*H` one activation per gate value, and cell_ops = 5/6/0 (LSTM:
  c = f*c + i*g is 3, tanh(c) and o*tanh(c) are 2; GRU: r*(W_hn h), the add, 1 - z, (1-z)*n,
  z*h and the final add are 6);
- a ConvLSTM layer is that LSTM at every cell of its h x w map: per frame, matmul
  `2*4H*k*k*(C_in + H)*h*w` (its input and hidden convolutions) and elementwise
  `(4H*(1 + biases) + 4H + 5H)*h*w`;
- an attention encoder layer (D = hidden_size, T frames, `heads` heads, feed-forward 4D) costs,
  per clip, matmul `2*T*D*D*(3 + 1 + 2*4)` (qkv, output and feed-forward linears) plus `4*T*T*D`
  (q k^T and weights @ v over all heads) and elementwise `T*D*(2*6 + 3 + 1 + 4 + 1 + 4 + 2)`
  (two layer norms at 6 per element: mean, centre, variance, normalise, scale, shift; the bias
  adds of qkv, output and the two feed-forward linears; GELU; two residual adds) plus
  `4*heads*T*T` (scaling each score and softmax at 3 per score: exp, sum, divide);
  sinusoidal positions cost their add (the table depends on T alone).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from labkit.errors import LabkitError
from .config import MONOTONE_ACTIVATIONS, DCRNConfig
from .encoders import HAND_CRAFTED_ENCODERS
from .rows import Layer
from .sequence_layers import FFN_MULT, CausalConvBlock, ConvLSTM, FrameTransformer
from .user_encoder import UserEncoder

_ACT = {"relu": nn.ReLU, "gelu": nn.GELU, "elu": nn.ELU, "tanh": nn.Tanh}


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
    """The per-frame CNN, `model.blocks`: ConvBlocks, (N, C, H, W) -> feature maps (N, C', H', W').

    As every frame encoder: `attr` (where the DCRN keeps it), `plan(cfg, batch, frames, module)`
    -> (rows, map shape (C', H', W')) and `opaque_ops(cfg)` (as the temporal models')."""

    attr = "blocks"

    def __init__(self, cfg: DCRNConfig):
        chans = (cfg.in_chans, *cfg.conv_channels)
        super().__init__(*[ConvBlock(a, b, cfg, stride=cfg.stem_stride if i == 0 else 1)
                           for i, (a, b) in enumerate(zip(chans[:-1], chans[1:]))])

    @staticmethod
    def opaque_ops(cfg: DCRNConfig) -> None:
        return None  # conv, batch norm, activation and pooling are all modules

    @staticmethod
    def plan(cfg: DCRNConfig, batch: int, frames: int, module=None) -> tuple[list[Layer], tuple[int, int, int]]:
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


ENCODERS = {"cnn": ConvEncoder, **HAND_CRAFTED_ENCODERS}


def encoder_stage(cfg: DCRNConfig):
    """The frame encoder's class: ConvEncoder, a hand-crafted one, or UserEncoder for a factory."""
    return ENCODERS.get(cfg.frame_encoder, UserEncoder)


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
    def plan(kind: str, batch: int, frames: int, map_shape: tuple[int, int, int]) -> tuple[list[Layer], int]:
        """The row of readout `kind` ((B, T, F) output) and the frame vector size F."""
        (c, h, w), N = map_shape, batch * frames
        if kind == "gap":
            dim, kind, ops, stored = c, "global average pool", N * c * h * w, True
        elif kind == "keypoints":  # softmax (exp, sum, divide), row/col sums, 2 dot products, mean
            dim, kind, ops, stored = 3 * c, "keypoints (soft-argmax x, y, mean)", 8 * N * c * h * w, True
        else:
            dim, kind, ops, stored = c * h * w, "flatten (H, W, C)", 0, False
        return [Layer("frame_readout", kind, (batch, frames, dim), elementwise_flops=ops, stored=stored)], dim


# ---- 3. temporal model: frame vectors (B, T, F) -> clip features (B, D) ----------------------
def masked_mean(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean over time of x (B, T, ...), counting only frames where mask (B, T) is True -> (B, ...)."""
    if mask is None:
        return x.mean(1)
    m = mask.to(x.dtype).view(*mask.shape, *[1] * (x.dim() - 2))  # (B, T, 1, ...)
    return (x * m).sum(1) / m.sum(1).clamp_min(1)


def last_valid(x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """x (B, T, ...) at each clip's last valid frame (the last frame without lengths) -> (B, ...)."""
    if lengths is None:
        return x[:, -1]
    return x[torch.arange(x.shape[0], device=x.device), lengths.to(x.device) - 1]


def read_over_time(x: torch.Tensor, cfg: DCRNConfig, lengths, mask) -> torch.Tensor:
    """The clip's features from per-frame outputs x (B, T, ...): cfg.temporal_readout "last" or "mean"."""
    return masked_mean(x, mask) if cfg.temporal_readout == "mean" else last_valid(x, lengths)


def cumulative_mean(x: torch.Tensor) -> torch.Tensor:
    """Mean over the first t+1 steps, for every t: x (B, T, ...) -> (B, T, ...)."""
    steps = torch.arange(1, x.shape[1] + 1, device=x.device, dtype=x.dtype)
    return x.cumsum(1) / steps.view(1, -1, *[1] * (x.dim() - 2))


def prefix_readout(out: torch.Tensor, cfg: DCRNConfig) -> torch.Tensor:
    """What `read_over_time` gives after every prefix of a causal stage's outputs out (B, T, ...):
    the output at step t ("last") or the mean of steps 0..t ("mean") -> (B, T, ...)."""
    return cumulative_mean(out) if cfg.temporal_readout == "mean" else out


def _over_time_row(cfg: DCRNConfig, batch: int, frames: int, shape: tuple, last: str) -> Layer:
    """The row of `read_over_time` on outputs of `shape` per frame; `last` names the "last" readout."""
    if cfg.temporal_readout == "mean":
        return Layer("temporal", "mean over valid frames", (batch, *shape),
                     elementwise_flops=batch * frames * math.prod(shape))
    return Layer("temporal", last, (batch, *shape), stored=False)


class TemporalModel:
    """What every temporal model (one class per cell, in `TEMPORAL`) provides; static methods only.

    attr: the DCRN attribute that holds its module (`model.<attr>`, None where it has none);
    build(cfg, in_dim, map_shape) -> the module; forward(module, cfg, feats (B, T, F), lengths (B,)
    or None, mask (B, T) or None) -> (B, D); plan(cfg, batch, frames, in_dim, map_shape) -> (rows,
    D); map_shape is the frame encoder's (C, h, w) map, which only the ConvLSTM reads;
    frame_readout(cfg): the readout the DCRN applies to every frame's map before it;
    opaque_ops(cfg): a phrase naming the non-linear operations it computes where module hooks
    cannot see them (inside a fused layer, or as tensor ops in forward), or None;
    prefixes(module, cfg, feats (B, T, F)) -> (B, T, D): the clip features after every prefix.
    """

    attr = "rnn"

    @staticmethod
    def frame_readout(cfg: DCRNConfig) -> str:
        return cfg.frame_readout

    @staticmethod
    def opaque_ops(cfg: DCRNConfig) -> str | None:
        return None

    @classmethod
    def prefixes(cls, module, cfg: DCRNConfig, feats: torch.Tensor) -> torch.Tensor:
        """Clip features after every prefix of frames: (B, T, F) -> (B, T, D), where [:, t] equals
        forward on frames 0..t. This general form runs the T prefixes as one padded batch (B*T
        sequences, lengths 1..T) in a single call; causal stages override it with one pass that
        reads every step's output (a recurrence carries its state on, nothing is re-run)."""
        B, T = feats.shape[:2]
        lengths = torch.arange(1, T + 1, device=feats.device).repeat(B)  # (B*T,)
        rep = feats.repeat_interleave(T, dim=0)  # (B*T, T, F): clip b's copy for prefix t at row b*T + t
        mask = torch.arange(T, device=feats.device)[None, :] < lengths[:, None]
        return cls.forward(module, cfg, rep, lengths, mask).reshape(B, T, -1)


class MeanOverTime(TemporalModel):
    """cell="none", the frame-only baseline: the mean of the valid frames' vectors; no module
    (`model.rnn` stays None, as it always was for this cell)."""

    @staticmethod
    def build(cfg: DCRNConfig, in_dim: int, map_shape: tuple[int, int, int]) -> None:
        return None

    @staticmethod
    def forward(module, cfg: DCRNConfig, feats: torch.Tensor, lengths, mask) -> torch.Tensor:
        return masked_mean(feats, mask)

    @classmethod
    def prefixes(cls, module, cfg: DCRNConfig, feats: torch.Tensor) -> torch.Tensor:
        return cumulative_mean(feats)

    @staticmethod
    def plan(cfg: DCRNConfig, batch: int, frames: int, in_dim: int, map_shape: tuple[int, int, int]) -> tuple[list[Layer], int]:
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


def _unit_forget_bias(lstm: nn.LSTM) -> None:
    """Start every forget gate open: its bias is 1 (b_ih) + 0 (b_hh), as Keras' LSTM does
    (unit_forget_bias=True). With PyTorch's random bias the gate starts half shut, and the
    memory of a cue fades over a few frames before training has learned to keep it; with the
    forget gate open, LSTMs learn long spans far sooner (Gers et al. 2000, Jozefowicz et al. 2015).
    Gate order in PyTorch: input, forget, cell, output."""
    with torch.no_grad():
        for name, p in lstm.named_parameters():
            if name.startswith("bias_"):
                h = p.shape[0] // 4
                p[h:2 * h] = 1.0 if name.startswith("bias_ih") else 0.0


def _orthogonal_recurrence(rnn: nn.RNNBase, gain: float) -> None:
    """Each gate's (H, H) hidden-to-hidden block becomes a random orthogonal matrix times `gain`
    (drawn from torch's generator, so a seeded build repeats), as `DCRNConfig.recurrent_gain` says."""
    with torch.no_grad():
        for name, w in rnn.named_parameters():
            if name.startswith("weight_hh"):
                for block in w.split(rnn.hidden_size, dim=0):  # (H, H) per gate
                    nn.init.orthogonal_(block, gain=gain)


class Recurrent(TemporalModel):
    """cell="rnn" | "lstm" | "gru": PyTorch's recurrent layer (`model.rnn`), read out at the last
    valid frame ("last") or as the mean of its outputs over valid frames ("mean")."""

    @staticmethod
    def build(cfg: DCRNConfig, in_dim: int, map_shape: tuple[int, int, int]) -> nn.RNNBase:
        rnn = _RNN[cfg.cell](in_dim, cfg.hidden_size, num_layers=cfg.num_layers, batch_first=True,
                             bidirectional=cfg.bidirectional, dropout=cfg.drop_rate if cfg.num_layers > 1 else 0.0)
        if cfg.cell == "lstm":
            _unit_forget_bias(rnn)
        if cfg.recurrent_gain is not None:
            _orthogonal_recurrence(rnn, cfg.recurrent_gain)
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

    @classmethod
    def prefixes(cls, rnn: nn.RNNBase, cfg: DCRNConfig, feats: torch.Tensor) -> torch.Tensor:
        """One pass: the top layer's output at step t IS the state after frame t (one direction);
        a backward direction sees the future, so a bidirectional layer runs every prefix."""
        if cfg.bidirectional:
            return super().prefixes(rnn, cfg, feats)
        return prefix_readout(rnn(feats)[0], cfg)  # (B, T, H)

    @staticmethod
    def plan(cfg: DCRNConfig, batch: int, frames: int, in_dim: int, map_shape: tuple[int, int, int]) -> tuple[list[Layer], int]:
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
        return rows + [_over_time_row(cfg, batch, frames, (dirs * H,), "last valid state")], dirs * H

    @staticmethod
    def opaque_ops(cfg: DCRNConfig) -> str:
        return f"the gates inside nn.{_RNN[cfg.cell].__name__} (one fused layer, not modules Captum can hook)"


class TemporalConv(TemporalModel):
    """cell="tcn": `num_layers` residual causal conv blocks (`model.tcn`, an nn.Sequential of
    `CausalConvBlock`s, dilations 1, 2, 4, ...), read out at the last valid frame or as the mean
    over valid frames. Being causal, nothing after a clip's last frame reaches it."""

    attr = "tcn"

    @staticmethod
    def build(cfg: DCRNConfig, in_dim: int, map_shape: tuple[int, int, int]) -> nn.Sequential:
        H = cfg.hidden_size
        return nn.Sequential(*[CausalConvBlock(in_dim if i == 0 else H, H, cfg.temporal_kernel, 2 ** i, cfg.drop_rate)
                               for i in range(cfg.num_layers)])

    @staticmethod
    def forward(tcn: nn.Sequential, cfg: DCRNConfig, feats: torch.Tensor, lengths, mask) -> torch.Tensor:
        out = tcn(feats.transpose(1, 2)).transpose(1, 2)  # (B, F, T) -> (B, H, T) -> (B, T, H)
        return read_over_time(out, cfg, lengths, mask)  # (B, H)

    @classmethod
    def prefixes(cls, tcn: nn.Sequential, cfg: DCRNConfig, feats: torch.Tensor) -> torch.Tensor:
        """Causal: step t's output sees frames 0..t only, so one pass gives every prefix."""
        return prefix_readout(tcn(feats.transpose(1, 2)).transpose(1, 2), cfg)  # (B, T, H)

    @staticmethod
    def plan(cfg: DCRNConfig, batch: int, frames: int, in_dim: int, map_shape: tuple[int, int, int]) -> tuple[list[Layer], int]:
        """One row per block; its type names the receptive field so far in frames."""
        H, k, N = cfg.hidden_size, cfg.temporal_kernel, batch * frames
        rows, c, field = [], in_dim, 1
        for i in range(cfg.num_layers):
            d, res = 2 ** i, int(c != H)
            field += (k - 1) * d
            kind = f"causal Conv1d {c}->{H} k{k} dilation {d}{' +1x1 residual' if res else ''}, sees {field} frames"
            rows.append(Layer(f"tcn.{i}", kind, (batch, frames, H), params=c * k * H + H + res * (c * H + H),
                              matmul_flops=2 * N * H * c * (k + res), elementwise_flops=N * H * (3 + res)))
            c = H
        return rows + [_over_time_row(cfg, batch, frames, (H,), "last valid frame")], H


class SelfAttention(TemporalModel):
    """cell="attention": a small transformer encoder over frames (`model.attention`, a
    `FrameTransformer`) with a key padding mask from the lengths, read out as the mean of the
    valid frames' outputs ("mean") or the last valid frame's output ("last"; every frame
    attends to the whole clip, so that one sees it all too). No learned CLS token: a readout
    over the frames needs no extra parameter, and a mean reaches every frame directly."""

    attr = "attention"

    @staticmethod
    def build(cfg: DCRNConfig, in_dim: int, map_shape: tuple[int, int, int]) -> FrameTransformer:
        return FrameTransformer(in_dim, cfg.hidden_size, cfg.num_heads, cfg.num_layers, cfg.drop_rate)

    @staticmethod
    def forward(encoder: FrameTransformer, cfg: DCRNConfig, feats: torch.Tensor, lengths, mask) -> torch.Tensor:
        return read_over_time(encoder(feats, mask), cfg, lengths, mask)  # (B, T, D) -> (B, D)

    @staticmethod
    def plan(cfg: DCRNConfig, batch: int, frames: int, in_dim: int, map_shape: tuple[int, int, int]) -> tuple[list[Layer], int]:
        D, heads, N, ff = cfg.hidden_size, cfg.num_heads, batch * frames, FFN_MULT
        shape = (batch, frames, D)
        rows = [Layer("attention.proj", f"Linear {in_dim}->{D}", shape, params=in_dim * D + D,
                      matmul_flops=2 * N * in_dim * D, elementwise_flops=N * D),
                Layer("attention.positions", "+ sinusoidal positions", shape, elementwise_flops=N * D)]
        rows += [Layer(f"attention.layers.{i}", f"encoder layer: {heads} heads, feed-forward {ff * D}", shape,
                       params=(4 + 2 * ff) * D * D + (9 + ff) * D,
                       matmul_flops=2 * N * (4 + 2 * ff) * D * D + 4 * batch * frames * frames * D,
                       elementwise_flops=N * D * (19 + 2 * ff) + 4 * batch * heads * frames * frames)
                 for i in range(cfg.num_layers)]
        rows.append(Layer("attention.norm", "LayerNorm", shape, params=2 * D, elementwise_flops=6 * N * D))
        return rows + [_over_time_row(cfg, batch, frames, (D,), "last valid frame")], D

    @staticmethod
    def opaque_ops(cfg: DCRNConfig) -> str:
        return "attention's query-key products and softmax (tensor products of two inputs, not modules)"


class ConvRecurrent(TemporalModel):
    """cell="convlstm": a convolutional LSTM over the frames' feature MAPS (`model.convlstm`).

    The DCRN's frame readout is then the flatten (a view), which this stage folds back into maps
    (B, T, C, h, w); the ConvLSTM keeps the spatial layout, and the config's frame_readout
    (flatten, gap, keypoints) reads the hidden map after the last valid frame (or the mean
    hidden map over valid frames). A recurrence only looks back, so padding never reaches it.
    """

    attr = "convlstm"

    @staticmethod
    def frame_readout(cfg: DCRNConfig) -> str:
        return "flatten"

    @staticmethod
    def build(cfg: DCRNConfig, in_dim: int, map_shape: tuple[int, int, int]) -> ConvLSTM:
        return ConvLSTM(map_shape, cfg.hidden_size, cfg.temporal_kernel, cfg.num_layers,
                        cfg.rnn_bias == "double", cfg.drop_rate, FrameReadout(cfg.frame_readout))

    @staticmethod
    def _maps(convlstm: ConvLSTM, cfg: DCRNConfig, feats: torch.Tensor) -> torch.Tensor:
        """Frame vectors (B, T, C*h*w) folded back into maps (B, T, C, h, w): a view of the flatten."""
        C, h, w = convlstm.map_shape
        if feats.shape[-1] != C * h * w:
            raise LabkitError(f"cell='convlstm' folds each frame's {C}x{h}x{w} feature map back from its frame "
                              f"vector, so it takes {cfg.img_size}x{cfg.img_size} frames; got frame vectors of "
                              f"{feats.shape[-1]} values: resize the clips (size={cfg.img_size})")
        return feats.unflatten(2, (h, w, C)).permute(0, 1, 4, 2, 3)

    @staticmethod
    def forward(convlstm: ConvLSTM, cfg: DCRNConfig, feats: torch.Tensor, lengths, mask) -> torch.Tensor:
        maps = ConvRecurrent._maps(convlstm, cfg, feats)
        hidden = read_over_time(convlstm(maps), cfg, lengths, mask)  # (B, T, H, h, w) -> (B, H, h, w)
        return convlstm.readout(hidden)  # (B, D)

    @classmethod
    def prefixes(cls, convlstm: ConvLSTM, cfg: DCRNConfig, feats: torch.Tensor) -> torch.Tensor:
        """A recurrence: one pass, the hidden map after every frame read out as after the last."""
        hidden = prefix_readout(convlstm(cls._maps(convlstm, cfg, feats)), cfg)  # (B, T, H, h, w)
        return convlstm.readout(hidden.flatten(0, 1)).unflatten(0, hidden.shape[:2])  # (B, T, D)

    @staticmethod
    def plan(cfg: DCRNConfig, batch: int, frames: int, in_dim: int, map_shape: tuple[int, int, int]) -> tuple[list[Layer], int]:
        """One row per layer (gates as in `Recurrent`, on every cell of the map), the choice of
        frame, then the frame readout of the hidden map."""
        (C, h, w), H, k, N = map_shape, cfg.hidden_size, cfg.temporal_kernel, batch * frames
        biases, rows = 1 if cfg.rnn_bias == "single" else 2, []
        for i in range(cfg.num_layers):
            c = C if i == 0 else H
            rows.append(Layer(f"convlstm.cells.{i}", f"ConvLSTM {c}->{H} {k}x{k} on {h}x{w}", (batch, frames, H, h, w),
                              params=4 * H * k * k * (c + H) + biases * 4 * H,
                              matmul_flops=2 * N * h * w * 4 * H * k * k * (c + H),
                              elementwise_flops=N * h * w * (4 * H * (1 + biases) + 4 * H + _CELL_OPS["lstm"] * H)))
        rows.append(_over_time_row(cfg, batch, frames, (H, h, w), "hidden map after the last valid frame"))
        (readout,), dim = FrameReadout.plan(cfg.frame_readout, batch, 1, (H, h, w))
        # a new tensor even for flatten: the hidden map is channels-first
        return rows + [replace(readout, name="convlstm.readout", output_shape=(batch, dim), stored=True)], dim

    @staticmethod
    def opaque_ops(cfg: DCRNConfig) -> str:
        return "the ConvLSTM's gates (products of two inputs computed in its forward, not modules)"


TEMPORAL: dict[str, type[TemporalModel]] = {
    "none": MeanOverTime, "rnn": Recurrent, "lstm": Recurrent, "gru": Recurrent,
    "tcn": TemporalConv, "attention": SelfAttention, "convlstm": ConvRecurrent}


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
    frame vector size F (into the temporal model), the clip feature size D (into the head) and
    the frame encoder's map (C, h, w)."""

    layers: list[Layer]
    frame_dim: int
    feature_dim: int
    map_shape: tuple[int, int, int]


def plan(cfg: DCRNConfig, batch: int = 1, frames: int = 1, encoder: nn.Module | None = None) -> Plan:
    """Plan every stage of `cfg` in order (analytic; the config must be valid). encoder: the
    model's frame encoder module, which a user's encoder is measured on (else its factory builds one)."""
    stage = TEMPORAL[cfg.cell]
    rows, map_shape = encoder_stage(cfg).plan(cfg, batch, frames, encoder)
    readout, frame_dim = FrameReadout.plan(stage.frame_readout(cfg), batch, frames, map_shape)
    temporal, feature_dim = stage.plan(cfg, batch, frames, frame_dim, map_shape)
    return Plan(rows + readout + temporal + Head.plan(cfg, batch, feature_dim), frame_dim, feature_dim, map_shape)
