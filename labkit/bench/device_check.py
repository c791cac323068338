"""`labkit bench --device cuda --check` (`make gpu-check`): the GPU path, run for real, in minutes.

1. `seed` and `default` train on the device with mixed precision (bf16 where supported, else
   fp16 with loss scaling) and channels-last: clips/s, achieved TFLOP/s and its share of a GEMM
   measured in the same run, peak memory, and where a step's time goes.
2. The same model trained on the device with mixed precision and on the CPU in fp32, from the
   same weights on the same batches: the loss curves agree (first loss within 2%, the mean of
   the last five within 10% — mixed precision rounds differently, so curves drift apart slowly).
3. Every attribution method on an LSTM and a GRU model, on the device in eval mode (cuDNN's RNN
   cannot run backward in eval mode: attribution switches cuDNN off) against the CPU's maps.
4. `torchrun` with one process per GPU (NCCL) trains a few steps; then a clip is explained.
On a machine without CUDA it runs the same checks on the CPU (2 gloo processes, bf16), so CI
keeps it alive; `--quick` shrinks every size.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from labkit import data, explain, models, runs
from labkit.train.devices import resolve_device

from .step_profile import gemm_rate, profile_steps

FULL = dict(batch={"seed": 64, "default": 256}, frames=16, size=64, steps=200, agree_steps=30)
QUICK = dict(batch={"seed": 2, "default": 4}, frames=4, size=32, steps=3, agree_steps=4)
ATTRIBUTION_TOLERANCE = 1e-2  # max |device - cpu| / max |cpu map|: TF32 convolutions round at ~1e-3


def _batch(n: int, p: dict, seed: int = 0):
    ds = data.synthetic("direction", n=n, frames=p["frames"], size=p["size"], seed=seed)
    clips, labels, _ = ds.batch(np.arange(n))
    return torch.from_numpy(clips), torch.from_numpy(labels)


def _throughput_rows(device: torch.device, p: dict) -> list[dict]:
    bf16 = device.type == "cpu" or torch.cuda.is_bf16_supported()
    n = 512 if p is QUICK else 4096
    peak = gemm_rate(device, torch.bfloat16 if bf16 else torch.float16, n=n)
    rows = [dict(name=f"GEMM rate ({'bf16' if bf16 else 'fp16'}) on {device}", value=round(peak / 1e12, 3),
                 unit="TFLOP/s", note=f"{n}^3 matmul, best of 5: the bound below is measured, not quoted")]
    for name in ("seed", "default"):
        model = models.preset(name, num_classes=8, img_size=p["size"], seed=0).to(device)
        r = profile_steps(model, *_batch(p["batch"][name], p), "auto", p["steps"])
        share = r["flop_per_s"] / peak
        phases = ", ".join(f"{k} {100 * v / r['step_s']:.0f}%" for k, v in r["phases"].items())
        target = ">= 0.30" if name == "seed" and device.type == "cuda" else None
        rows += [dict(name=f"{name}: training ({r['precision']}, channels-last, batch {p['batch'][name]})",
                      value=round(r["clips_per_s"], 1), unit="clips/s", note=f"{r['step_s'] * 1e3:.1f} ms/step; {phases}"),
                 dict(name=f"{name}: achieved TFLOP/s and share of the GEMM rate", value=round(share, 3), unit="share",
                      target=target, ok=share >= 0.30 if target else None,
                      note=f"{r['flop_per_s'] / 1e12:.2f} TFLOP/s (analytic training FLOPs / step time)"),
                 dict(name=f"{name}: peak memory of a training step", value=round(r["peak_bytes"] / 2**20), unit="MiB",
                      note="torch.cuda.max_memory_allocated" if device.type == "cuda" else "process RSS high-water")]
    return rows


def _agreement_row(device: torch.device, p: dict) -> dict:
    """Loss curves of mixed precision on `device` and fp32 on the CPU from the same start."""
    clips, labels = _batch(p["batch"]["default"], p, seed=1)
    curves = {}
    for where, precision in ((device, "auto"), (torch.device("cpu"), "fp32")):
        model = models.preset("default", num_classes=8, img_size=p["size"], seed=0).to(where)
        curves[where.type + precision] = profile_steps(model, clips, labels, precision, p["agree_steps"],
                                                       channels_last=where.type == "cuda")["losses"]
    a, b = (np.asarray(v) for v in curves.values())
    first, last = abs(a[0] - b[0]) / b[0], abs(a[-5:].mean() - b[-5:].mean()) / b[-5:].mean()
    ok = bool(first <= 0.02 and last <= 0.10)
    return dict(name=f"loss curve: mixed precision on {device} vs fp32 on the CPU", value=round(float(last), 4),
                unit="relative", target="first <= 0.02, last 5 <= 0.10", ok=ok,
                note=f"first step {first:.4f}; losses {a[0]:.3f}->{a[-1]:.3f} vs {b[0]:.3f}->{b[-1]:.3f}")


def _attribution_rows(device: torch.device, p: dict) -> list[dict]:
    """Every method that applies, on LSTM and GRU models, on `device` against the CPU."""
    clip = _batch(1, p, seed=2)[0][0].numpy()
    rows = []
    for cell in ("lstm", "gru"):
        cpu = models.preset("default", num_classes=8, img_size=p["size"], cell=cell, seed=0).eval()
        there = models.preset("default", num_classes=8, img_size=p["size"], cell=cell, seed=0).to(device).eval()
        worst, names = 0.0, []
        for spec in explain.methods():
            if spec.applies(cpu) is not None or spec.name == "smoothgrad":  # its noise is drawn on each device
                continue
            kw = {"n_steps": 8} if spec.name == "integrated_gradients" else {}
            ref = explain.attribute(cpu, clip, method=spec.name, **kw).maps
            got = explain.attribute(there, clip, method=spec.name, **kw).maps
            worst = max(worst, float(np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-12)))
            names.append(spec.name)
        rows.append(dict(name=f"attribution on {device} vs CPU, {cell.upper()} in eval mode", value=round(worst, 5),
                         unit="max rel. diff", target=f"<= {ATTRIBUTION_TOLERANCE}", ok=worst <= ATTRIBUTION_TOLERANCE,
                         note=", ".join(names)))
    return rows


def _torchrun_rows(device: torch.device, p: dict) -> list[dict]:
    """A few steps of `labkit train` under torchrun (NCCL on GPUs, gloo on CPUs), then one clip explained."""
    procs = torch.cuda.device_count() if device.type == "cuda" else 2
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}", "-m",
               "labkit.cli", "train", "--data", "synthetic:order", "--clips", str(16 * procs), "--frames",
               str(p["frames"]), "--size", str(p["size"]), "--epochs", "1", "--batch-size", str(4 * procs),
               "--device", device.type, "--no-progress", "--out", str(run)]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        ok = done.returncode == 0 and json.loads((run / "config.json").read_text())["runtime"]["world_size"] == procs
        rows = [dict(name=f"torchrun, {procs} process(es), {'NCCL' if device.type == 'cuda' else 'gloo'}",
                     value=procs, unit="processes", ok=ok,
                     note="trained 1 epoch" if ok else done.stderr.strip().splitlines()[-1][:200])]
        if ok:
            model = runs.load(run, device=str(device))
            attr = explain.attribute(model, data.synthetic("order", n=1, frames=p["frames"], size=p["size"])[0][0])
            rows.append(dict(name=f"explain a clip on {device} (integrated gradients)", value=round(
                float(attr.completeness_error() or 0.0), 4), unit="completeness gap", ok=bool(np.isfinite(attr.maps).all()),
                note="finite maps; the gap between attributions and the logit difference"))
    return rows


def rows(device: str = "auto", quick: bool = False) -> list[dict]:
    """Every check on `device` ("auto": CUDA if there is one, else the CPU)."""
    dev = resolve_device(device)
    p = QUICK if quick else FULL
    out = [dict(name="device", value=torch.cuda.device_count() if dev.type == "cuda" else os.cpu_count(),
                unit="GPUs" if dev.type == "cuda" else "CPU cores",
                note=torch.cuda.get_device_name(dev) if dev.type == "cuda" else "no CUDA: the CPU dry run")]
    return out + _throughput_rows(dev, p) + [_agreement_row(dev, p)] + _attribution_rows(dev, p) + \
        _torchrun_rows(dev, p)
