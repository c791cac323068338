"""Where a training step's time goes, on any device: data (uint8 clips to the device and
normalised), forward, backward, optimizer — each phase timed with the device synchronised, so
asynchronous GPU work is charged to the phase that queued it."""
from __future__ import annotations

import resource
import time

import torch
import torch.nn.functional as F

from labkit.models import training_flops
from labkit.train.devices import resolve_precision

PHASES = ("data", "forward", "backward", "optimizer")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def gemm_rate(device: torch.device, dtype: torch.dtype, n: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of an (n, n) @ (n, n) matrix product in `dtype` on `device`: the bound a step is
    compared with (measured in the same run, not taken from a data sheet)."""
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    a @ b
    _sync(device)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best


def _timed_step(model, opt, scaler, prec, clips_u8, labels) -> tuple[float, list[float]]:
    """One training step -> (loss, seconds of each phase in PHASES)."""
    device, marks = model.device, [time.perf_counter()]

    def mark():
        _sync(device)
        marks.append(time.perf_counter())

    x = model.preprocess(clips_u8.to(device, non_blocking=True))  # (B, T, C, H, W) float
    y = labels.to(device, non_blocking=True)
    mark()
    with prec.autocast():
        loss = F.cross_entropy(model(x).float(), y)
    mark()
    opt.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    mark()
    scaler.step(opt)
    scaler.update()
    mark()
    return loss.item(), [b - a for a, b in zip(marks[:-1], marks[1:])]


def profile_steps(model, clips_u8: torch.Tensor, labels: torch.Tensor, precision: str, steps: int,
                  channels_last: bool = True) -> dict:
    """Train `steps` steps on one batch (uint8 (B, T, H, W, C) on the host, as a loader gives it);
    returns seconds per phase (mean over the steps after one warm-up), clips/s, achieved FLOP/s
    (analytic training FLOPs / step time), peak memory in bytes, and the per-step losses."""
    device = model.device
    if channels_last:
        model.to(memory_format=torch.channels_last)
    prec = resolve_precision(precision, device)
    scaler, opt = prec.grad_scaler(), torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    totals, losses = [0.0] * len(PHASES), []
    for step in range(steps + 1):
        loss, seconds = _timed_step(model, opt, scaler, prec, clips_u8, labels)
        losses.append(loss)
        if step:  # the first step pays for autotuning and allocation
            totals = [t + s for t, s in zip(totals, seconds)]
    per_phase = {p: t / steps for p, t in zip(PHASES, totals)}
    step_s = sum(per_phase.values())
    B, T, H = clips_u8.shape[:3]
    flops = training_flops(model.config, batch=B, frames=T, size=H)
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else \
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"phases": per_phase, "step_s": step_s, "clips_per_s": B / step_s, "flop_per_s": flops / step_s,
            "peak_bytes": peak, "losses": losses, "precision": prec.name}
