"""How many clips fit in one forward(+backward) pass: a memory budget for attribution.

Integrated gradients on one 16-frame clip with 32 steps is a batch of 32 clips, 512 frames
through the CNN; on a small GPU or a busy laptop that alone can run out of memory. We measure
the activation memory of one clip (forward hooks on every leaf module), multiply by what the
backward pass adds, and fit as many clips as the budget allows.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

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


def clip_activation_bytes(model: nn.Module, x1: torch.Tensor) -> int:
    """Bytes of every leaf module's output (and the input) for one clip x1 (1, T, C, H, W)."""
    total = [x1.numel() * x1.element_size()]

    def count(out):
        if torch.is_tensor(out):
            total[0] += out.numel() * out.element_size()
        elif isinstance(out, (tuple, list)):
            for o in out:
                count(o)

    hooks = [m.register_forward_hook(lambda m, i, o: count(o))
             for m in model.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            model(x1)
    finally:
        for h in hooks:
            h.remove()
    return total[0]


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
    clip = clip_activation_bytes(model, x[:1])
    return Budget(bytes=budget, clip_bytes=clip,
                  backward_rows=max(1, budget // (BACKWARD_FACTOR * clip)),
                  forward_rows=max(1, budget // clip))
