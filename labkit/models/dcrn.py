"""`DCRN`: per-frame CNN (all frames folded into the batch) -> recurrent layer -> head."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .config import MONOTONE_ACTIVATIONS, DCRNConfig

_ACT = {"relu": nn.ReLU, "gelu": nn.GELU, "elu": nn.ELU, "tanh": nn.Tanh}
_RNN = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


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
        self.pool_first = cfg.pool > 1 and cfg.activation in MONOTONE_ACTIVATIONS

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.pool_first:
            return super().forward(x)
        *pre, act, pool = self  # conv [, bn], act, pool
        for layer in pre:
            x = layer(x)
        return act(pool(x))


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


class DCRN(nn.Module):
    """Deep convolutional recurrent network.

    forward(x (B, T, C, H, W) float, lengths (B,) or None) -> logits (B, num_classes).
    Split as encode_frames -> (B, T, F), forward_features -> (B, D), forward_head -> (B, K).
    """

    def __init__(self, config: DCRNConfig):
        super().__init__()
        self.config = config.validate()
        cfg = config
        chans = (cfg.in_chans, *cfg.conv_channels)
        self.blocks = nn.Sequential(*[ConvBlock(a, b, cfg, stride=cfg.stem_stride if i == 0 else 1)
                                      for i, (a, b) in enumerate(zip(chans[:-1], chans[1:]))])
        side = cfg.frame_sides()[-1][1] if cfg.conv_channels else cfg.img_size
        self.frame_dim = chans[-1] * {"flatten": side * side, "gap": 1, "keypoints": 3}[cfg.frame_readout]
        self.frame_drop = nn.Dropout(cfg.drop_rate)
        if cfg.cell == "none":
            self.rnn = None
            self.feature_dim = self.frame_dim
        else:
            self.rnn = _RNN[cfg.cell](
                self.frame_dim, cfg.hidden_size, num_layers=cfg.num_layers, batch_first=True,
                bidirectional=cfg.bidirectional, dropout=cfg.drop_rate if cfg.num_layers > 1 else 0.0,
            )
            if cfg.rnn_bias == "single":
                _single_bias(self.rnn)
            self.feature_dim = cfg.hidden_size * (2 if cfg.bidirectional else 1)
        head = []
        width = self.feature_dim
        if cfg.head_hidden:
            head += [nn.Linear(width, cfg.head_hidden), nn.ReLU(), nn.Dropout(cfg.drop_rate)]
            width = cfg.head_hidden
        head.append(nn.Linear(width, cfg.num_classes))
        self.head = nn.Sequential(*head)

    # ---- the three stages -------------------------------------------------------------------
    def encode_frames(self, x: torch.Tensor) -> torch.Tensor:
        """Per-frame CNN features: (B, T, C, H, W) -> (B, T, F), one conv call on B*T frames.

        Frames run channels-last (the layout `preprocess` already yields, so this is free there):
        the CPU conv, pool and their backward passes are fastest in it and no layout copies
        appear. Flatten reads each frame in (H, W, C) order, as Keras' channels-last Flatten does,
        which is a view of a channels-last tensor.
        """
        B, T = x.shape[:2]
        if self.config.max_frames is not None and T > self.config.max_frames:
            raise ValueError(f"clips have {T} frames but this model takes at most max_frames="
                             f"{self.config.max_frames}; trim the clips or raise max_frames")
        x = x.reshape(B * T, *x.shape[2:]).contiguous(memory_format=torch.channels_last)  # (B*T, C, H, W)
        f = self.blocks(x)  # (B*T, C', H', W')
        if self.config.frame_readout == "gap":
            f = f.mean(dim=(2, 3))  # (B*T, C')
        elif self.config.frame_readout == "keypoints":
            f = keypoints(f)  # (B*T, 3*C')
        else:
            f = f.permute(0, 2, 3, 1).flatten(1)  # (B*T, H'*W'*C')
        return self.frame_drop(f.reshape(B, T, -1))  # (B, T, F)

    def temporal(self, feats: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Recurrence over frames: (B, T, F) [+ lengths (B,)] -> clip features (B, D)."""
        B, T = feats.shape[:2]
        mask = None
        if lengths is not None:
            lengths = torch.as_tensor(lengths, device=feats.device)
            mask = torch.arange(T, device=feats.device)[None, :] < lengths[:, None]  # (B, T)
        if self.rnn is None:  # frame-only baseline: mean over (valid) time
            if mask is None:
                return feats.mean(1)
            m = mask.to(feats.dtype)[..., None]
            return (feats * m).sum(1) / m.sum(1).clamp_min(1)
        if lengths is not None:
            packed = pack_padded_sequence(feats, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, h = self.rnn(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=T)  # (B, T, D)
        else:
            out, h = self.rnn(feats)  # (B, T, D); hidden state sized from the input batch
        if self.config.temporal_readout == "mean":
            if mask is None:
                return out.mean(1)
            m = mask.to(out.dtype)[..., None]
            return (out * m).sum(1) / m.sum(1).clamp_min(1)
        h = h[0] if isinstance(h, tuple) else h  # (layers*dirs, B, H)
        if self.config.bidirectional:
            return torch.cat([h[-2], h[-1]], dim=1)  # (B, 2H): last forward and backward states
        return h[-1]  # (B, H): state after the last valid frame

    def forward_features(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, C, H, W) -> clip features (B, D)."""
        return self.temporal(self.encode_frames(x), lengths)

    def forward_head(self, z: torch.Tensor) -> torch.Tensor:
        """(B, D) -> logits (B, num_classes)."""
        return self.head(z)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        return self.forward_head(self.forward_features(x, lengths))

    # ---- raw clips in -----------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def preprocess(self, clips) -> torch.Tensor:
        """uint8 clip(s) (T, H, W, C) or (N, T, H, W, C), numpy or tensor -> float (N, T, C, H, W).

        The lab's one input convention: scale to [0, 1], normalise with config.mean/std, on the
        model's device. The permute keeps channels-last strides, which the conv prefers.
        """
        x = torch.as_tensor(np.asarray(clips) if not torch.is_tensor(clips) else clips)
        if x.ndim == 4:
            x = x[None]
        if x.ndim != 5:
            raise ValueError(f"clips must be (T, H, W, C) or (N, T, H, W, C); got shape {tuple(x.shape)}")
        x = x.to(self.device, non_blocking=True).permute(0, 1, 4, 2, 3).float()  # (N, T, C, H, W)
        mean = torch.tensor(self.config.mean, device=x.device).view(1, 1, -1, 1, 1)
        std = torch.tensor(self.config.std, device=x.device).view(1, 1, -1, 1, 1)
        return (x / 255.0 - mean) / std

    @torch.no_grad()
    def predict_proba(self, clips, lengths=None, batch_size: int = 64) -> np.ndarray:
        """Raw uint8 clip(s) -> class probabilities (N, num_classes) as numpy, in eval mode."""
        was_training = self.training
        self.eval()
        try:
            arr = clips if torch.is_tensor(clips) else np.asarray(clips)
            if arr.ndim == 4:
                arr = arr[None]
            out = []
            for i in range(0, len(arr), batch_size):
                ln = None if lengths is None else torch.as_tensor(lengths)[i:i + batch_size]
                out.append(torch.softmax(self(self.preprocess(arr[i:i + batch_size]), ln).float(), -1).cpu())
            return torch.cat(out).numpy()
        finally:
            self.train(was_training)
