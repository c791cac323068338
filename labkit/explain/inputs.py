"""Checking what people pass to `attribute`: clips as datasets hold them, and targets."""
from __future__ import annotations

import numpy as np
import torch


def check_clips(model, clips) -> torch.Tensor:
    """uint8 clip (T, H, W, C) or batch (N, T, H, W, C) -> normalised float (N, T, C, H, W).

    Raises a ValueError naming the problem and the fix: wrong dtype, wrong rank, channels not
    last, a frame size the model cannot take, or more frames than `config.max_frames`.
    """
    if not (torch.is_tensor(clips) or isinstance(clips, np.ndarray)):
        clips = np.asarray(clips)
    dtype = clips.dtype
    if dtype not in (np.uint8, torch.uint8):
        raise ValueError(f"clips must be uint8 (T, H, W, C) as datasets hold them; got dtype {dtype}. "
                         "Pass ds[i][0], or convert floats in [0, 1] with (x * 255).astype(np.uint8)")
    shape = tuple(clips.shape)
    if len(shape) not in (4, 5):
        raise ValueError(f"clips must be one clip (T, H, W, C) or a batch (N, T, H, W, C); got shape {shape}")
    cfg = model.config
    T, H, W, C = shape[-4:]
    if C != cfg.in_chans:
        hint = " (channels first? datasets give channels last: (T, H, W, C))" if shape[-3] == cfg.in_chans else ""
        raise ValueError(f"clips have {C} channels in the last axis but the model takes "
                         f"in_chans={cfg.in_chans}; got shape {shape}{hint}")
    if cfg.frame_readout == "flatten" and (H, W) != (cfg.img_size, cfg.img_size):
        raise ValueError(f"clips are {H}x{W} but this model (frame_readout='flatten') takes "
                         f"{cfg.img_size}x{cfg.img_size} frames; resize the data (size={cfg.img_size})")
    if cfg.max_frames is not None and T > cfg.max_frames:
        raise ValueError(f"clips have {T} frames but the model takes at most max_frames={cfg.max_frames}; "
                         f"sample fewer frames (frames={cfg.max_frames})")
    if T < 1 or H < 1 or W < 1 or (len(shape) == 5 and shape[0] < 1):
        raise ValueError(f"clips must not be empty; got shape {shape}")
    return model.preprocess(clips)


def resolve_targets(target, n: int, num_classes: int, classes, predicted: np.ndarray) -> np.ndarray:
    """Target class per clip (n,) int64 from None (predicted), an index, a class name, or one per clip."""
    if target is None:
        return predicted.astype(np.int64)
    if isinstance(target, str) or np.ndim(target) == 0:
        target = [target] * n
    target = list(np.asarray(target).tolist()) if not isinstance(target, list) else target
    if len(target) != n:
        raise ValueError(f"target gives {len(target)} classes for {n} clips; give one, or one per clip")
    out = []
    for t in target:
        if isinstance(t, str):
            if classes is None:
                raise ValueError(f"target {t!r} is a class name but no class names are known; "
                                 "pass classes=ds.classes or a class index")
            if t not in classes:
                raise ValueError(f"unknown target class {t!r}; classes are {list(classes)}")
            t = list(classes).index(t)
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)):
            raise ValueError(f"target must be a class index, a class name or None; got {t!r}")
        if not 0 <= t < num_classes:
            raise ValueError(f"target index {t} is out of range for {num_classes} classes (0..{num_classes - 1})")
        out.append(int(t))
    return np.asarray(out, dtype=np.int64)
