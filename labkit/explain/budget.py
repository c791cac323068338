"""How many clips fit in one forward(+backward) pass: a memory budget for attribution.

Integrated gradients on one 16-frame clip with 32 steps is a batch of 32 clips, 512 frames
through the CNN; on a small GPU or a busy laptop that alone can run out of memory. We measure
the activation memory of one clip (`models.summary`), multiply by what the
backward pass adds, and fit as many clips as the budget allows.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from labkit.models import summary

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
    stored = summary(model.config, frames=T, size=max(H, W)).totals["activation_bytes"]
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
