"""Attribution speed: latency of every method on one 16-frame 64x64 clip (default preset), and
integrated gradients (32 steps) against 32 batched forward+backward passes of the same model.

Both sides of the ratio are timed in this process, alternately, best of a few repeats, so the
ratio holds even while the shared CPU is busy; absolute latencies wander with the load.
The reference pass is what IG must at least do: a batch of 32 clips through the model and back
to the input, in eval mode, without parameter gradients.
"""
from __future__ import annotations

import numpy as np
import torch

from labkit import explain
from labkit.explain.core import explaining
from labkit.models import preset

from .timing import best_times

FULL = dict(frames=16, size=64, repeats=3, ratio_repeats=7)
QUICK = dict(frames=4, size=32, repeats=1, ratio_repeats=1)
IG_STEPS = 32
# lighter settings where the defaults would dominate the section's runtime without telling more
PARAMS = {"integrated_gradients": {"n_steps": IG_STEPS}}


def _batched_passes(model, clip, steps: int):
    """One forward+backward of `steps` copies of the clip, gradients to the input only."""
    x = model.preprocess(clip).expand(steps, -1, -1, -1, -1).clone().requires_grad_()  # (steps, T, C, H, W)

    def run():
        with explaining(model):
            model(x)[:, 0].sum().backward()
            x.grad = None
    return run


def rows(quick: bool = False) -> list[dict]:
    cfg = QUICK if quick else FULL
    torch.manual_seed(0)
    clip = np.random.default_rng(0).integers(0, 256, (cfg["frames"], cfg["size"], cfg["size"], 3), dtype=np.uint8)
    models = {"default": preset("default", num_classes=8, img_size=cfg["size"]).eval(),
              "frame-only": preset("frame-only", num_classes=8, img_size=cfg["size"]).eval()}
    shape = f"{cfg['frames']}x{cfg['size']}x{cfg['size']} clip"
    explain.attribute(models["default"], clip, method="saliency")  # warm-up: first-call allocations
    out = []
    for spec in explain.methods():
        which = "frame-only" if spec.name == "deeplift" else "default"  # DeepLift refuses recurrent layers
        params = PARAMS.get(spec.name, {})
        (seconds,) = best_times([lambda: explain.attribute(models[which], clip, method=spec.name, **params)],
                                cfg["repeats"], warmup=False)
        note = f"{which} preset, {shape}" + (f", {params}" if params else "")
        out.append({"name": f"latency {spec.name}", "value": round(seconds, 4), "unit": "s", "note": note})
    model = models["default"]
    ig = lambda: explain.attribute(model, clip, method="integrated_gradients", n_steps=IG_STEPS)  # noqa: E731
    ref = _batched_passes(model, clip, IG_STEPS)
    ig_s, ref_s = best_times([ig, ref], cfg["ratio_repeats"], warmup=False)  # alternate: both see the same load
    ratio = ig_s / ref_s
    out.append({"name": f"integrated_gradients / {IG_STEPS} batched fwd+bwd", "value": round(ratio, 3),
                "unit": "x", "target": "<= 1.5", "ok": bool(ratio <= 1.5),
                "note": f"IG {ig_s:.3f} s vs {ref_s:.3f} s for one batch of {IG_STEPS} ({shape}, default preset)"})
    return out
