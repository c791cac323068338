"""Gradient flow over time: how much of the loss gradient reaches each frame's features."""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from .core import check_clips, explaining, resolve_targets


def gradient_flow(model, clip, target=None, classes=None) -> pd.DataFrame:
    """Norm of d(loss)/d(frame features) for every frame: the vanishing-gradient picture.

    clip: uint8 (T, H, W, C) or a batch (N, T, H, W, C); target: None (predicted class), index,
    name or one per clip. The loss is the cross-entropy of the target; the gradient is taken
    w.r.t. `model.encode_frames` output (N, T, F), so it shows what the recurrence passes back
    to each time step (a plain RNN's gradient fades towards the first frames, an LSTM/GRU's less).
    Returns a DataFrame with columns clip, frame, grad_norm (N*T rows).
    """
    x = check_clips(model, clip)  # (N, T, C, H, W)
    classes = classes if classes is not None else getattr(model, "classes", None)
    with explaining(model):
        feats = model.encode_frames(x).detach().requires_grad_()  # (N, T, F): a leaf, so .grad is kept
        logits = model.forward_head(model.temporal(feats))  # (N, K)
        predicted = logits.argmax(1).cpu().numpy()
        targets = resolve_targets(target, len(x), logits.shape[1], classes, predicted)
        loss = F.cross_entropy(logits, torch.as_tensor(targets, device=x.device), reduction="sum")
        (grad,) = torch.autograd.grad(loss, feats)
    norms = grad.norm(dim=-1).cpu().numpy()  # (N, T)
    N, T = norms.shape
    return pd.DataFrame({"clip": np.repeat(np.arange(N), T), "frame": np.tile(np.arange(T), N),
                         "grad_norm": norms.reshape(-1)})
