"""`attribute()`: one entry point over every method in the registry, and what every
explanation shares: the model state it needs, checked clips and targets, and a memory budget.

How many clips fit in one forward(+backward) pass: integrated gradients on one 16-frame clip
with 32 steps is a batch of 32 clips, 512 frames through the CNN; on a small GPU or a busy
laptop that alone can run out of memory. We measure the activation memory of one clip
(`models.summary`), multiply by what the backward pass adds, and fit as many clips as the
budget allows.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from labkit.errors import LabkitError
from labkit.models import keep_freed_memory, summary

from .attribution import Attribution
from .registry import Logits, get


def attribute(model, clips, target=None, method: str = "integrated_gradients", *, lengths=None, classes=None,
              memory_mb: float | None = None, **params) -> Attribution:
    """Attribute the model's decision on uint8 clip(s) to pixels and frames.

    clips: one clip (T, H, W, C), a batch (N, T, H, W, C) uint8 as datasets hold them, or a list
    of clips of different lengths. lengths (N,): the valid frames of each clip of a zero-padded
    batch (as `ds.batch` and loaders give them); each clip is then explained at its own length,
    so padding frames get exactly 0 attribution and a NaN frame score.
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
    refused = spec.applies(model)
    if refused is not None:
        raise LabkitError(f"{spec.name}: {refused}")
    clips, lengths = _padded(clips, lengths)
    classes = classes if classes is not None else getattr(model, "classes", None)
    if lengths is None:
        return _attribute(model, check_clips(model, clips), target, spec, p, classes, memory_mb)
    return _by_length(model, clips, lengths, target, spec, p, classes, memory_mb)


def _padded(clips, lengths):
    """A list of clips of different lengths -> (zero-padded batch, lengths); else as given, with
    lengths None when every clip is whole (nothing to treat specially)."""
    if isinstance(clips, (list, tuple)) and len({len(c) for c in clips}) > 1:
        if lengths is not None:
            raise LabkitError("give clips of different lengths as a list, or a padded batch with lengths=, not both")
        lengths = [len(c) for c in clips]
        padded = np.zeros((len(clips), max(lengths), *np.asarray(clips[0]).shape[1:]), np.uint8)
        for i, c in enumerate(clips):
            padded[i, :len(c)] = c
        clips = padded
    if lengths is None:
        return clips, None
    lengths = np.asarray(lengths, dtype=np.int64).reshape(-1)
    T = np.asarray(clips).shape[-4]
    if np.asarray(clips).ndim != 5 or len(lengths) != len(clips) or lengths.min() < 1 or lengths.max() > T:
        raise LabkitError(f"lengths must give 1..{T} valid frames for each clip of a padded batch "
                          f"(N, T, H, W, C); got {lengths.tolist()} for shape {np.asarray(clips).shape}")
    return clips, None if (lengths == T).all() else lengths


def _by_length(model, clips, lengths, target, spec, p, classes, memory_mb) -> Attribution:
    """Explain each group of equally long clips at its own length, then pad the results: maps
    0 and frame scores NaN on padding frames (so they can never look important)."""
    clips, N, T = np.asarray(clips), len(clips), np.asarray(clips).shape[1]
    targets = [target] * N if target is None or isinstance(target, str) or np.ndim(target) == 0 else list(target)
    parts, order = [], []
    for length in np.unique(lengths):
        idx = np.flatnonzero(lengths == length)
        x = check_clips(model, clips[idx, :length])
        parts.append(_attribute(model, x, [targets[i] for i in idx] if target is not None else None, spec, p,
                                classes, memory_mb))
        order.append(idx)
    return Attribution.merge(parts, order, N, T, lengths)


def _attribute(model, x: torch.Tensor, target, spec, p: dict, classes, memory_mb) -> Attribution:
    """`attribute` on a batch of whole clips x (N, T, C, H, W), normalised."""
    if x.device.type == "cpu":
        keep_freed_memory()
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
    maps, abs_maps, scores = _reduce(torch.cat(attrs), spec)  # (N, T, C', H, W) -> (N, T, H, W) x2, (N, T)
    return Attribution(
        maps=maps.numpy(), abs_maps=abs_maps.numpy(), frame_scores=scores.numpy(),
        target=targets, predicted=predicted.astype(np.int64),
        probability=probs.max(1), target_probability=probs[np.arange(len(probs)), targets],
        method=spec.name, params={**p, **chosen, "memory_bytes": budget.bytes},
        delta=None if deltas[0] is None else torch.cat(deltas).numpy(),
        classes=list(classes) if classes is not None else None,
    )


def _reduce(a: torch.Tensor, spec) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Attributions (N, T, C', H, W) -> signed maps, |maps| (N, T, H, W) and frame scores (N, T)."""
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
    return maps, abs_maps, scores


# ---- the model's state for one explanation --------------------------------------------------

@contextlib.contextmanager
def explaining(model: nn.Module):
    """Eval mode (dropout off, batch norm frozen), no parameter gradients, gradients enabled.

    cuDNN's recurrent kernels refuse to run backward outside training mode, so cuDNN is
    switched off for the call when the model holds one of PyTorch's recurrent layers
    (nn.RNNBase; a ConvLSTM, a TCN or attention runs on ordinary kernels and keeps cuDNN); the
    model stays in eval mode, which is what makes the explanation match the model's predictions.
    The training flag and every parameter's `requires_grad` are put back afterwards, even on error.
    """
    was_training = model.training
    grads = [p.requires_grad for p in model.parameters()]
    recurrent = any(isinstance(m, nn.RNNBase) for m in model.modules())
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        with torch.enable_grad(), (torch.backends.cudnn.flags(enabled=False) if recurrent
                                   else contextlib.nullcontext()):
            yield model
    finally:
        model.train(was_training)
        for p, g in zip(model.parameters(), grads):
            p.requires_grad_(g)


# ---- what people pass: clips as datasets hold them, and targets ------------------------------

def check_clips(model, clips) -> torch.Tensor:
    """uint8 clip (T, H, W, C) or batch (N, T, H, W, C) -> normalised float (N, T, C, H, W).

    Raises a ValueError naming the problem and the fix: wrong dtype, wrong rank, channels not
    last, a frame size the model cannot take, or more frames than `config.max_frames`.
    """
    if not (torch.is_tensor(clips) or isinstance(clips, np.ndarray)):
        clips = np.asarray(clips)
    dtype = clips.dtype
    if dtype not in (np.uint8, torch.uint8):
        raise LabkitError(f"clips must be uint8 (T, H, W, C) as datasets hold them; got dtype {dtype}. "
                         "Pass ds[i][0], or convert floats in [0, 1] with (x * 255).astype(np.uint8)")
    shape = tuple(clips.shape)
    if len(shape) not in (4, 5):
        raise LabkitError(f"clips must be one clip (T, H, W, C) or a batch (N, T, H, W, C); got shape {shape}")
    cfg = model.config
    T, H, W, C = shape[-4:]
    if C != cfg.in_chans:
        hint = " (channels first? datasets give channels last: (T, H, W, C))" if shape[-3] == cfg.in_chans else ""
        raise LabkitError(f"clips have {C} channels in the last axis but the model takes "
                         f"in_chans={cfg.in_chans}; got shape {shape}{hint}")
    if model.frame_readout.kind == "flatten" and (H, W) != (cfg.img_size, cfg.img_size):
        why = "cell='convlstm'" if cfg.cell == "convlstm" else "frame_readout='flatten'"
        raise LabkitError(f"clips are {H}x{W} but this model ({why}: frame vectors are flattened maps) takes "
                         f"{cfg.img_size}x{cfg.img_size} frames; resize the data (size={cfg.img_size})")
    if cfg.max_frames is not None and T > cfg.max_frames:
        raise LabkitError(f"clips have {T} frames but the model takes at most max_frames={cfg.max_frames}; "
                         f"sample fewer frames (frames={cfg.max_frames})")
    if T < 1 or H < 1 or W < 1 or (len(shape) == 5 and shape[0] < 1):
        raise LabkitError(f"clips must not be empty; got shape {shape}")
    return model.preprocess(clips)


def resolve_targets(target, n: int, num_classes: int, classes, predicted: np.ndarray) -> np.ndarray:
    """Target class per clip (n,) int64 from None (predicted), an index, a class name, or one per clip."""
    if target is None:
        return predicted.astype(np.int64)
    if isinstance(target, str) or np.ndim(target) == 0:
        target = [target] * n
    target = list(np.asarray(target).tolist()) if not isinstance(target, list) else target
    if len(target) != n:
        raise LabkitError(f"target gives {len(target)} classes for {n} clips; give one, or one per clip")
    out = []
    for t in target:
        if isinstance(t, str):
            if classes is None:
                raise LabkitError(f"target {t!r} is a class name but no class names are known; "
                                 "pass classes=ds.classes or a class index")
            if t not in classes:
                raise LabkitError(f"unknown target class {t!r}; classes are {list(classes)}")
            t = list(classes).index(t)
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)):
            raise LabkitError(f"target must be a class index, a class name or None; got {t!r}")
        if not 0 <= t < num_classes:
            raise LabkitError(f"target index {t} is out of range for {num_classes} classes (0..{num_classes - 1})")
        out.append(int(t))
    return np.asarray(out, dtype=np.int64)


# ---- the memory budget ----------------------------------------------------------------------

# forward activations are kept for backward, the backward pass makes gradients of the same
# size, and temporaries come and go: about three times the forward activation memory in all
BACKWARD_FACTOR = 3
CPU_BUDGET_CAP = 2 * 1024**3  # bytes; a CPU share that leaves room for the notebook and its neighbours


@dataclass(frozen=True)
class Budget:
    """Clips per pass that fit in `bytes`: `backward_rows` with gradients, `forward_rows` without."""

    bytes: int
    clip_bytes: int
    backward_rows: int
    forward_rows: int


def clip_activation_bytes(model: nn.Module, x: torch.Tensor) -> int:
    """Bytes of activations one clip shaped like x (N, T, C, H, W) keeps for backward, plus its
    input: from `models.summary` (analytic, so planning costs no forward pass)."""
    T, C, H, W = x.shape[1:]
    stored = summary(model, frames=T, size=max(H, W)).totals["activation_bytes"]  # the model: a user's encoder is measured
    return int(stored) + T * C * H * W * x.element_size()


def default_budget_bytes(device: torch.device) -> int:
    """Half the free GPU memory, or on CPU a quarter of the available RAM capped at 2 GiB."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free // 2
    try:
        with open("/proc/meminfo") as f:
            avail_kb = next(int(line.split()[1]) for line in f if line.startswith("MemAvailable"))
        return min(CPU_BUDGET_CAP, avail_kb * 1024 // 4)
    except (OSError, StopIteration):
        return CPU_BUDGET_CAP // 2


def plan(model: nn.Module, x: torch.Tensor, memory_mb: float | None = None) -> Budget:
    """The budget for clips shaped like x (N, T, C, H, W) on the model's device."""
    budget = int(memory_mb * 1024**2) if memory_mb else default_budget_bytes(x.device)
    clip = clip_activation_bytes(model, x)
    return Budget(bytes=budget, clip_bytes=clip,
                  backward_rows=max(1, budget // (BACKWARD_FACTOR * clip)),
                  forward_rows=max(1, budget // clip))
