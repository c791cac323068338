"""`attribute()`: one entry point over every method in the registry."""
from __future__ import annotations

import numpy as np
import torch

from labkit.models import keep_freed_memory

from .attribution import Attribution
from .budget import plan
from .inputs import check_clips, resolve_targets
from .methods import Logits, get
from .state import explaining


def attribute(model, clips, target=None, method: str = "integrated_gradients", *, classes=None,
              memory_mb: float | None = None, **params) -> Attribution:
    """Attribute the model's decision on uint8 clip(s) to pixels and frames.

    clips: one clip (T, H, W, C) or a batch (N, T, H, W, C), uint8 as datasets hold them.
    target: None (the predicted class), a class index, a class name (needs `classes`, or a
    model with a `classes` attribute), or one of these per clip.
    method: a name from `explain.methods()`; **params: that method's parameters (see its specs).
    memory_mb: memory budget for one pass (default: half the free GPU memory; on CPU a quarter
    of the available RAM, at most 2 GiB); clips per pass come from `models.summary`'s activation
    estimate, so it sets batch sizes (IG's internal_batch_size, perturbations per evaluation),
    never the result beyond float rounding.

    Attribution happens in the model's normalised input space, for the target's logit, with the
    model in eval mode; its training flag and parameters' requires_grad are restored afterwards.
    On CPU, freed memory is kept in the process (`models.keep_freed_memory`, as training does):
    integrated gradients allocates the same 25 MB path and gradient tensors on every call, and
    glibc's default of handing them back to the kernel made calls ~40% slower and erratic.
    Returns an `Attribution` with maps (N, T, H, W) and frame_scores (N, T).
    """
    spec = get(method)
    p = spec.resolve(params)
    x = check_clips(model, clips)  # (N, T, C, H, W) normalised
    if x.device.type == "cpu":
        keep_freed_memory()
    classes = classes if classes is not None else getattr(model, "classes", None)
    net = Logits(model)
    with explaining(model):
        budget = plan(model, x, memory_mb)
        chunk = max(1, budget.backward_rows // 2)  # DeepLift and IG put two rows per clip in a pass
        with torch.no_grad():
            logits = torch.cat([net(x[i:i + chunk]) for i in range(0, len(x), chunk)])  # (N, K)
        probs = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        predicted = probs.argmax(1)
        targets = resolve_targets(target, len(x), probs.shape[1], classes, predicted)
        t = torch.as_tensor(targets, device=x.device)
        attrs, deltas = [], []
        for i in range(0, len(x), chunk):
            a, d, chosen = spec.run(net, x[i:i + chunk].detach(), t[i:i + chunk], p, budget)
            attrs.append(a.detach().float().cpu())
            deltas.append(None if d is None else d.detach().float().cpu().reshape(-1))
    a = torch.cat(attrs)  # (N, T, C', H, W)
    if spec.reduce == "sum":
        maps, abs_maps = a.sum(2), a.abs().sum(2)
    else:
        maps, abs_maps = a.mean(2), a.abs().mean(2)  # (N, T, H, W)
    if spec.frame_score == "abs_mass":
        scores = abs_maps.sum((2, 3))
    elif spec.frame_score == "signed_mass":
        scores = maps.sum((2, 3))
    elif spec.frame_score == "mean":
        scores = maps.mean((2, 3))
    else:  # "drop": every pixel of a frame carries that frame's ablation value
        scores = maps[:, :, 0, 0]
    return Attribution(
        maps=maps.numpy(), abs_maps=abs_maps.numpy(), frame_scores=scores.numpy(),
        target=targets, predicted=predicted.astype(np.int64),
        probability=probs.max(1), target_probability=probs[np.arange(len(probs)), targets],
        method=spec.name, params={**p, **chosen, "memory_bytes": budget.bytes},
        delta=None if deltas[0] is None else torch.cat(deltas).numpy(),
        classes=list(classes) if classes is not None else None,
    )
