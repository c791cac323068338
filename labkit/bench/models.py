"""Model speed: training and inference clips/s of the `seed` and `default` presets, against a plain
PyTorch transcription of the reference Keras model and against this machine's fp32 GEMM rate.

Everything is measured in this one process, one configuration after another, and each figure is
the best of a few repeats: the CPU is shared, so absolute numbers wander but ratios taken in the
same run hold. A step = forward + cross-entropy + backward + Adam update on a batch already
preprocessed to float (the data pipeline is the train section's business).
"""
from __future__ import annotations

import gc
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from labkit.models import preset, training_flops

FULL = dict(batch=32, frames=16, size=64, repeats=3)
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


def _best_time(fn, repeats: int) -> float:
    """Best wall time of `fn()` over `repeats` runs, after one warm-up run."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


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
    model.eval()

    @torch.no_grad()
    def run():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            model(x)
    return run


def gemm_rate(repeats: int, m: int = 512, k: int = 30752, n: int = 256) -> float:
    """Best fp32 torch.mm rate in FLOP/s on (m, k) @ (k, n); the default is the seed's LSTM input
    projection for a batch of 32 clips x 16 frames (the step's largest product)."""
    a, b = torch.randn(m, k), torch.randn(k, n)
    return 2 * m * k * n / _best_time(lambda: torch.mm(a, b), max(repeats, 3))


def _measure(name: str, model: nn.Module, x, y, bf16: bool, repeats: int) -> tuple[float, float, int]:
    """(train seconds/step, inference seconds/batch, peak bytes of a training step above the start)."""
    base = _peak_reset()
    train = _best_time(_train_step(model, x, y, bf16), repeats)
    peak = _rss("VmHWM") - base
    infer = _best_time(_infer(model, x, bf16), repeats)
    return train, infer, peak


def rows(quick: bool = False) -> list[dict]:
    """Benchmark rows (see module docstring); quick=True shrinks every size to check it runs."""
    p = QUICK if quick else FULL
    B, T, S, R = p["batch"], p["frames"], p["size"], p["repeats"]
    torch.manual_seed(0)
    clips = torch.randint(0, 256, (B, T, S, S, 3), dtype=torch.uint8)
    y = torch.randint(0, 10, (B,))
    shape = f"batch {B}, {T} frames, {S}x{S}x3"
    bf16_ok = torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    out: list[dict] = []
    m, k, n = B * T, 32 * ((S - 2) // 2) ** 2, 256  # the seed's LSTM input projection
    gemm = gemm_rate(R, m, k, n)
    out.append(dict(name=f"fp32 GEMM rate ({m}x{k} @ {k}x{n})", value=round(gemm / 1e9, 1),
                    unit="GFLOP/s", note=f"torch.mm, {torch.get_num_threads()} threads, best of {max(R, 3)}"))

    speeds = {}
    for name in ("seed", "default"):
        model = preset(name, num_classes=10, img_size=S)
        x = model.preprocess(clips)  # (B, T, C, H, W), channels-last strides as the lab feeds it
        flops = training_flops(model.config, batch=B, frames=T, size=S)
        out.append(dict(name=f"{name}: training FLOPs per step", value=round(flops / 1e9, 2), unit="GFLOP",
                        note=f"analytic (models.summary convention), {shape}"))
        for bf16 in (False, True) if bf16_ok else (False,):
            tag = "bf16 autocast" if bf16 else "fp32"
            train, infer, peak = _measure(name, model, x, y, bf16, R)
            speeds[name, tag] = train
            out.append(dict(name=f"{name}: training ({tag})", value=round(B / train, 1), unit="clips/s",
                            note=f"best of {R} steps; {train * 1e3:.0f} ms/step"))
            out.append(dict(name=f"{name}: inference ({tag})", value=round(B / infer, 1), unit="clips/s",
                            note=f"best of {R}, no_grad, eval mode"))
            share = flops / train / gemm
            target = ">= 0.6" if (name, bf16) == ("seed", False) else None
            out.append(dict(name=f"{name}: share of fp32 GEMM bound ({tag})", value=round(share, 2), unit="",
                            target=target, ok=share >= 0.6 if target else None,
                            note="(training FLOPs / step time) / GEMM rate"))
            out.append(dict(name=f"{name}: peak memory of a training step ({tag})", value=round(peak / 2**20),
                            unit="MiB", note="RSS high-water mark above the start of the measurement"))
        if not bf16_ok:
            out.append(dict(name=f"{name}: bf16 autocast", value=None, unit="", note="CPU lacks bf16 support"))
        del model, x
    seed_model = preset("seed", num_classes=10, img_size=S)
    for fold in (False, True):
        torch.manual_seed(0)
        ref = KerasReference(10, S, fold=fold)
        x = seed_model.preprocess(clips).contiguous()  # the obvious channels-first tensor
        base = _peak_reset()
        train = _best_time(_train_step(ref, x, y, False), R)
        peak = _rss("VmHWM") - base
        how = "folded frames, conv->relu->pool" if fold else "Python loop over frames"
        out.append(dict(name=f"Keras reference, {how}: training (fp32)", value=round(B / train, 1),
                        unit="clips/s", note=f"best of {R}; {train * 1e3:.0f} ms/step; peak {peak / 2**20:.0f} MiB"))
        out.append(dict(name=f"seed / Keras reference ({'folded' if fold else 'loop'}) training speed",
                        value=round(train / speeds["seed", "fp32"], 2), unit="x", note="same run, fp32"))
    return out
