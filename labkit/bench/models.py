"""Model speed: training and inference clips/s of the `seed` and `default` presets, against a plain
PyTorch transcription of the reference Keras model and against this machine's fp32 GEMM rate.

Everything is measured in this one process, and each figure is the best of a few repeats; the
GEMM that defines the compute bound is timed alternately with each model's training steps, so a
share compares two timings taken under the same load. The CPU is shared: absolute numbers wander,
ratios taken side by side hold much better. A step = forward + cross-entropy + backward + Adam update on a batch already
preprocessed to float (the data pipeline is the train section's business).
"""
from __future__ import annotations

import gc
import resource

import torch
import torch.nn as nn
import torch.nn.functional as F

from labkit.models import keep_freed_memory, preset, training_flops

from .timing import best_times

FULL = dict(batch=32, frames=16, size=64, repeats=5)
QUICK = dict(batch=4, frames=4, size=32, repeats=1)


class KerasReference(nn.Module):
    """The DESIGN.md Keras model written the obvious way in PyTorch, without any of DCRN's care.

    TimeDistributed(Conv2D(32, 3) relu) -> TimeDistributed(MaxPool 2) -> Flatten -> LSTM(64)
    -> Dense(64, relu) -> Dense(K). `fold=False` applies the CNN in a Python loop over frames
    (what TimeDistributed does conceptually); `fold=True` runs all frames as one batch but keeps
    the textbook conv -> relu -> pool order and channels-first layout.
    (B, T, 3, H, W) -> (B, K).
    """

    def __init__(self, num_classes: int, size: int, fold: bool = False):
        super().__init__()
        self.fold = fold
        self.conv = nn.Conv2d(3, 32, 3)
        self.lstm = nn.LSTM(32 * ((size - 2) // 2) ** 2, 64, batch_first=True)
        self.fc1 = nn.Linear(64, 64)
        self.fc2 = nn.Linear(64, num_classes)

    def frame(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) -> (N, F)."""
        return F.max_pool2d(F.relu(self.conv(x)), 2).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T = x.shape[:2]
        if self.fold:
            f = self.frame(x.flatten(0, 1)).view(B, T, -1)  # (B, T, F)
        else:
            f = torch.stack([self.frame(x[:, t]) for t in range(T)], dim=1)  # (B, T, F)
        _, (h, _) = self.lstm(f)
        return self.fc2(F.relu(self.fc1(h[-1])))


def _peak_reset() -> int:
    """Reset this process's peak-RSS mark where Linux allows it; return the current RSS in bytes."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    return _rss("VmRSS")


def _rss(field: str) -> int:
    """VmRSS / VmHWM (peak) of this process in bytes (ru_maxrss where /proc is missing)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _train_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor, bf16: bool):
    """A closure running one optimisation step on (x, y), under bf16 autocast if asked."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)
        F.cross_entropy(logits.float(), y).backward()
        opt.step()
    return step


def _infer(model: nn.Module, x: torch.Tensor, bf16: bool):
    """A closure running one no-grad, eval-mode forward pass on x."""
    model.eval()

    @torch.no_grad()
    def run():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            model(x)
    return run


def _gemm(m: int, k: int, n: int):
    """(a closure running one fp32 torch.mm of (m, k) @ (k, n), its FLOPs)."""
    a, b = torch.randn(m, k), torch.randn(k, n)
    return (lambda: torch.mm(a, b)), 2 * m * k * n


def _measure(model: nn.Module, x, y, bf16: bool, repeats: int, gemm) -> dict:
    """Train seconds/step, inference seconds/batch, GEMM seconds (interleaved with the training
    steps), and the peak bytes of training above the start."""
    base = _peak_reset()
    train, mm = best_times([_train_step(model, x, y, bf16), gemm], repeats)
    peak = _rss("VmHWM") - base
    (infer,) = best_times([_infer(model, x, bf16)], repeats)
    return dict(train=train, infer=infer, gemm=mm, peak=peak)


def _model_rows(name: str, model, x, y, bf16: bool, p: dict, gemm, gemm_flops: int, flops: int,
                kept: bool) -> tuple[list[dict], float, float]:
    """Training and inference speed, share of the GEMM bound and (default allocator only) peak
    memory of one model in one precision -> (rows, seconds per training step, GEMM seconds)."""
    B, R = p["batch"], p["repeats"]
    tag = ("bf16 autocast" if bf16 else "fp32") + (", freed memory kept" if kept else "")
    r = _measure(model, x, y, bf16, R, gemm)
    share = flops / r["train"] / (gemm_flops / r["gemm"])
    target = ">= 0.6" if (name, bf16, kept) == ("seed", False, True) else None
    out = [
        dict(name=f"{name}: training ({tag})", value=round(B / r["train"], 1), unit="clips/s",
             note=f"best of {R} steps; {r['train'] * 1e3:.0f} ms/step"),
        dict(name=f"{name}: inference ({tag})", value=round(B / r["infer"], 1), unit="clips/s",
             note=f"best of {R} batches, no_grad, eval mode"),
        dict(name=f"{name}: share of fp32 GEMM bound ({tag})", value=round(share, 2), unit="",
             target=target, ok=share >= 0.6 if target else None,
             note=f"(training FLOPs / step time) / GEMM rate timed between the steps "
                  f"({gemm_flops / r['gemm'] / 1e9:.0f} GFLOP/s)"),
    ]
    if not kept:  # with freed memory kept, the resident set no longer falls between steps
        out.append(dict(name=f"{name}: peak memory of a training step ({tag})", value=round(r["peak"] / 2**20),
                        unit="MiB", note="RSS high-water mark above the start; approximate: memory the C "
                                         "allocator kept from earlier measurements is reused, not counted"))
    return out, r["train"], r["gemm"]


def _reference_rows(x, y, p: dict, seed_step: float, kept: bool) -> list[dict]:
    """The plain PyTorch transcription of the Keras model, looped and folded, against `seed_step`."""
    B, S, R = p["batch"], p["size"], p["repeats"]
    alloc, out = ", freed memory kept" if kept else "", []
    for fold in (False, True):
        torch.manual_seed(0)
        ref = KerasReference(10, S, fold=fold)
        base = _peak_reset()
        (train,) = best_times([_train_step(ref, x.contiguous(), y, False)], R)  # obvious channels-first input
        peak = _rss("VmHWM") - base
        how = "folded frames" if fold else "loop over frames"
        out += [
            dict(name=f"Keras reference, {how}: training (fp32{alloc})", value=round(B / train, 1),
                 unit="clips/s", note=f"best of {R}; {train * 1e3:.0f} ms/step"
                 + ("" if kept else f"; peak {peak / 2**20:.0f} MiB")),
            dict(name=f"seed vs Keras reference, {how} (fp32{alloc})", value=round(train / seed_step, 2),
                 unit="x faster", note="same run, same allocator"),
        ]
    return out


def rows(quick: bool = False) -> list[dict]:
    """Benchmark rows (see module docstring); quick=True shrinks every size to check it runs.

    Two passes: first with the C library's default allocator, then after `keep_freed_memory()`
    (which cannot be undone in a process, hence the order), each with the Keras reference.
    """
    p = QUICK if quick else FULL
    B, T, S = p["batch"], p["frames"], p["size"]
    torch.manual_seed(0)
    clips = torch.randint(0, 256, (B, T, S, S, 3), dtype=torch.uint8)
    y = torch.randint(0, 10, (B,))
    bf16_ok = torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    m, k, n = B * T, 32 * ((S - 2) // 2) ** 2, 256  # the seed's LSTM input projection
    gemm, gemm_flops = _gemm(m, k, n)
    models = {name: preset(name, num_classes=10, img_size=S) for name in ("seed", "default")}
    flops = {name: training_flops(mdl.config, batch=B, frames=T, size=S) for name, mdl in models.items()}
    out = [dict(name=f"{name}: training FLOPs per step", value=round(flops[name] / 1e9, 2), unit="GFLOP",
                note=f"analytic (models.summary convention), batch {B}, {T} frames, {S}x{S}x3") for name in models]
    if not bf16_ok:
        out.append(dict(name="bf16 autocast", value=None, unit="", note="this CPU lacks bf16 support: skipped"))
    x = models["seed"].preprocess(clips)  # (B, T, C, H, W), channels-last strides as the lab feeds it
    gemm_best = float("inf")
    for kept in (False, True):
        if kept and not keep_freed_memory():
            out.append(dict(name="keep_freed_memory", value=None, unit="", note="not glibc: second pass skipped"))
            break
        steps = {}
        for name, model in models.items():
            for bf16 in (False, True) if bf16_ok else (False,):
                got, steps[name, bf16], gemm_s = _model_rows(name, model, x, y, bf16, p, gemm, gemm_flops,
                                                             flops[name], kept)
                out += got
                gemm_best = min(gemm_best, gemm_s)
        out += _reference_rows(x, y, p, steps["seed", False], kept)
    out.insert(0, dict(name=f"fp32 GEMM rate ({m}x{k} @ {k}x{n})", value=round(gemm_flops / gemm_best / 1e9, 1),
                       unit="GFLOP/s", note=f"torch.mm, {torch.get_num_threads()} threads, best over the run"))
    return out
