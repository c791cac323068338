"""`DCRN`: per-frame CNN (all frames folded into the batch) -> frame readout -> temporal model -> head.

The stages, with their shapes, parameters and FLOPs, live in `stages.py`; this module composes them.
"""
from __future__ import annotations

import itertools

import numpy as np
import torch
import torch.nn as nn

from labkit.errors import LabkitError
from .config import DCRNConfig
from .stages import TEMPORAL, FrameReadout, Head, encoder_stage, plan
from .user_encoder import build_user_encoder, check_rebuildable, factory_name


class DCRN(nn.Module):
    """Deep convolutional recurrent network.

    forward(x (B, T, C, H, W) float, lengths (B,) or None) -> logits (B, num_classes).
    Split as encode_frames -> (B, T, F), temporal -> (B, D) (together forward_features),
    forward_head -> (B, K). Modules: the frame encoder, `frame_readout`, the temporal module,
    `head`. The frame encoder is `frame_encoder`, stored under `frame_encoder_name`: `blocks`
    for the CNN (config.frame_encoder="cnn"), `encoder` for a hand-crafted one or a user's
    module (`blocks` is None then). The temporal module is `temporal_module`, stored under
    `temporal_name`: `rnn` for rnn/lstm/gru (the name old checkpoints hold), `tcn`, `attention`
    or `convlstm`; cell="none" has none (`rnn` is None there). `temporal_stage` and
    `encoder_stage` are their classes (`stages.TEMPORAL`, `stages.ENCODERS`).

    frame_encoder: a user's nn.Module to use as the frame encoder (frames (N, C, H, W) -> maps
    (N, C', h, w) or vectors (N, F)); the config then records its factory (see `user_encoder.py`).
    """

    def __init__(self, config: DCRNConfig, frame_encoder: nn.Module | None = None):
        super().__init__()
        if frame_encoder is not None and not config.user_encoder:
            config = config.replace(frame_encoder=factory_name(frame_encoder))
        self.config = config.validate()
        self.encoder_stage, self.temporal_stage = encoder_stage(config), TEMPORAL[config.cell]
        # the construction order (hence which draws of a seeded RNG each part gets) is that of
        # the first DCRN: blocks, temporal module, head; seeded models stay what they were
        encoder = self._build_encoder(frame_encoder)
        shapes = plan(config, encoder=encoder)  # the sizes each stage hands on (analytic but for a user's module)
        self.frame_dim, self.feature_dim = shapes.frame_dim, shapes.feature_dim
        self.blocks = None
        setattr(self, self.encoder_stage.attr, encoder)
        self.frame_readout = FrameReadout(self.temporal_stage.frame_readout(config))
        self.frame_drop = nn.Dropout(config.drop_rate)
        setattr(self, self.temporal_stage.attr, self.temporal_stage.build(config, self.frame_dim, shapes.map_shape))
        self.head = Head(config, self.feature_dim)

    def _build_encoder(self, module: nn.Module | None) -> nn.Module:
        """The frame encoder: the module given, or one built from the config (a user's by its factory)."""
        if module is not None:
            if not isinstance(module, nn.Module):
                raise LabkitError(f"frame_encoder must be an nn.Module; got {type(module).__name__}")
            check_rebuildable(self.config.frame_encoder)
            return module
        if self.config.user_encoder:
            return build_user_encoder(self.config)
        return self.encoder_stage(self.config)

    @property
    def frame_encoder(self) -> nn.Module:
        """The frame encoder's module: the CNN (`blocks`), a hand-crafted encoder or a user's module."""
        return getattr(self, self.encoder_stage.attr)

    @property
    def frame_encoder_name(self) -> str:
        """Its attribute name, as in `named_modules()` and the state dict: "blocks" or "encoder"."""
        return self.encoder_stage.attr

    @property
    def temporal_module(self) -> nn.Module | None:
        """The temporal model's module (an nn.GRU, the TCN, ...); None for cell="none"."""
        return getattr(self, self.temporal_stage.attr)

    @property
    def temporal_name(self) -> str | None:
        """Its attribute name, as in `named_modules()` and the state dict ("rnn", "tcn", ...); None without one."""
        return None if self.temporal_module is None else self.temporal_stage.attr

    # ---- the stages ---------------------------------------------------------------------------
    def encode_frames(self, x: torch.Tensor) -> torch.Tensor:
        """Per-frame features: (B, T, C, H, W) -> (B, T, F), one encoder call on B*T frames.

        Frames run channels-last (the layout `preprocess` already yields, so this is free there):
        the CPU conv, pool and their backward passes are fastest in it and no layout copies
        appear (the flatten readout is then a view).
        """
        B, T = x.shape[:2]
        if self.config.max_frames is not None and T > self.config.max_frames:
            raise LabkitError(f"clips have {T} frames but this model takes at most max_frames="
                             f"{self.config.max_frames}; trim the clips or raise max_frames")
        x = x.reshape(B * T, *x.shape[2:]).contiguous(memory_format=torch.channels_last)  # (B*T, C, H, W)
        f = self.frame_encoder(x)  # (B*T, C', H', W'), or (B*T, F) from a user's module
        f = self.frame_readout(f if f.dim() == 4 else f[:, :, None, None])  # (B*T, F)
        return self.frame_drop(f.reshape(B, T, -1))  # (B, T, F)

    def temporal(self, feats: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """The temporal model over frames: (B, T, F) [+ lengths (B,)] -> clip features (B, D).

        Padding after a clip's `lengths` frames never changes its features (tested per cell)."""
        mask = None
        if lengths is not None:
            lengths = torch.as_tensor(lengths, device=feats.device)
            if bool(((lengths < 1) | (lengths > feats.shape[1])).any()):  # a stage would read a wrong frame
                raise LabkitError(f"lengths must lie in 1..{feats.shape[1]} (the clips' frame count); "
                                  f"got {lengths.tolist()}")
            mask = torch.arange(feats.shape[1], device=feats.device)[None, :] < lengths[:, None]  # (B, T)
        return self.temporal_stage.forward(self.temporal_module, self.config, feats, lengths, mask)

    def forward_features(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, C, H, W) -> clip features (B, D)."""
        return self.temporal(self.encode_frames(x), lengths)

    def forward_head(self, z: torch.Tensor) -> torch.Tensor:
        """(B, D) -> logits (B, num_classes)."""
        return self.head(z)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        return self.forward_head(self.forward_features(x, lengths))

    def prefix_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits after every prefix of frames: (B, T, C, H, W) -> (B, T, num_classes), where [:, t]
        is what forward gives on frames 0..t. Frames are encoded once; recurrent, causal and
        frame-only models read every step of one pass (their state carries on), the others
        (bidirectional, attention) run all T prefixes as one padded batch."""
        prefixes = self.temporal_stage.prefixes(self.temporal_module, self.config, self.encode_frames(x))
        return self.forward_head(prefixes.flatten(0, 1)).unflatten(0, prefixes.shape[:2])

    # ---- raw clips in -----------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        """Where the model runs: its first parameter's device, or a buffer's (a quantized model with a
        hand-crafted encoder has no float parameters left), else the CPU."""
        first = next(itertools.chain(self.parameters(), self.buffers()), None)
        return first.device if first is not None else torch.device("cpu")

    def preprocess(self, clips) -> torch.Tensor:
        """uint8 clip(s) (T, H, W, C) or (N, T, H, W, C), numpy or tensor -> float (N, T, C, H, W).

        The lab's one input convention: scale to [0, 1], normalise with config.mean/std, on the
        model's device. The permute keeps channels-last strides, which the conv prefers.
        """
        x = torch.as_tensor(np.asarray(clips) if not torch.is_tensor(clips) else clips)
        if x.dtype != torch.uint8:
            raise LabkitError(f"clips must be uint8 (T, H, W, C) frames as datasets hold them; got {x.dtype}. "
                              f"Fix: pass ds[i][0], or convert floats in [0, 1] with (x * 255).round().astype(np.uint8)")
        if x.ndim == 4:
            x = x[None]
        if x.ndim != 5:
            raise LabkitError(f"clips must be (T, H, W, C) or (N, T, H, W, C); got shape {tuple(x.shape)}")
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

    @torch.no_grad()
    def predict_prefixes(self, clips, lengths=None, batch_size: int = 16) -> np.ndarray:
        """When did the model decide: class probabilities after each prefix of frames, in eval mode.

        A uint8 clip (T, H, W, C) -> (T, num_classes): row t is `predict_proba` of frames 0..t.
        A batch (N, T, H, W, C) -> (N, T, num_classes); with lengths, rows past a clip's length are NaN.
        """
        arr = clips if torch.is_tensor(clips) else np.asarray(clips)
        single = arr.ndim == 4
        arr = arr[None] if single else arr
        was_training = self.training
        self.eval()
        try:
            out = torch.cat([torch.softmax(self.prefix_logits(self.preprocess(arr[i:i + batch_size])).float(), -1).cpu()
                             for i in range(0, len(arr), batch_size)]).numpy()  # (N, T, K)
        finally:
            self.train(was_training)
        if lengths is not None:
            out[np.arange(out.shape[1])[None, :] >= np.asarray(lengths)[:, None]] = np.nan
        return out[0] if single else out
