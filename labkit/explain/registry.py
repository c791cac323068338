"""The attribution methods, one place: their parameter specs, each runner next to its spec, and
the registry that `explain.methods()` lists so widgets and the CLI can build controls.

A runner takes the wrapped model `net` (normalised clips (n, T, C, H, W) -> logits (n, K)),
the clips `x`, the target classes `target` (n,), the resolved parameters and the memory
`core.Budget`, and returns `(attributions (n, T, C', H, W), delta (n,) or None, choices)` where C'
is C (or 1 for Grad-CAM) and `choices` records sizes picked for the caller (batch sizes).
Attributions are for the target's logit: logits do not saturate the way probabilities do.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import captum.attr as ca
import torch
import torch.nn as nn
import torch.nn.functional as F

from labkit.errors import LabkitError
from labkit.models import summary
from .baselines import BASELINES, make_baseline
from .path_ig import BroadcastIntegratedGradients


@dataclass(frozen=True)
class ParamSpec:
    """One tunable parameter of an attribution method.

    `type` is "int", "float", "bool" or "choice"; `low`/`high` bound numbers (inclusive),
    `choices` lists the values a "choice" takes. `default=None` on an int means "chosen for you".
    """

    name: str
    type: str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None
    help: str = ""

    def coerce(self, value: Any, method: str) -> Any:
        """Check one value (strings from the command line are converted) and return it typed."""
        where = f"{method}: parameter {self.name!r}"
        if value is None and self.default is None:
            return None
        try:
            if self.type == "int":
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError
                value = int(value)
            elif self.type == "float":
                value = float(value)
            elif self.type == "bool":
                if isinstance(value, str):
                    if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                        raise ValueError
                    value = value.lower() in ("true", "1", "yes")
                value = bool(value)
        except (TypeError, ValueError):
            raise LabkitError(f"{where} must be of type {self.type}; got {value!r}") from None
        if self.choices is not None and value not in self.choices:
            raise LabkitError(f"{where} must be one of {list(self.choices)}; got {value!r}")
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
            raise LabkitError(f"{where} must lie in [{self.low}, {self.high}]; got {value!r}")
        return value


@dataclass(frozen=True)
class MethodSpec:
    """One attribution method: its name, a human label, its parameters and how it runs.

    `reduce` says how the (N, T, C, H, W) attribution is folded over channels: "sum" for
    additive methods (gradients, integrated gradients), "mean" for perturbation methods whose
    value is shared by every channel of the perturbed region. `frame_score` says how frame
    importance is read: "abs_mass" (sum of |map| over the frame), "signed_mass" (sum of the
    signed map: for methods that add up to the logit difference, the frame's share of it),
    "mean" (mean signed map) or "drop" (the frame's ablation value itself). `refuse(model)`
    returns why the method cannot explain that model, or None (None: every model); read it
    through `applies`.
    """

    name: str
    label: str
    params: tuple[ParamSpec, ...]
    description: str = ""
    reduce: str = "sum"
    frame_score: str = "abs_mass"
    run: Callable | None = field(default=None, repr=False, compare=False)
    refuse: Callable | None = field(default=None, repr=False, compare=False)

    def applies(self, model: nn.Module) -> str | None:
        """None when this method can explain `model`; else the reason and what to use instead
        (`attribute` raises it; a widget can grey the method out with it as the tooltip)."""
        return None if self.refuse is None else self.refuse(model)

    def resolve(self, params: dict) -> dict:
        """Defaults filled in, every value checked; unknown names raise a ValueError listing the valid ones."""
        names = {p.name: p for p in self.params}
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise LabkitError(f"{self.name}: unknown parameter(s) {unknown}; valid: {sorted(names) or 'none'}")
        return {n: p.coerce(params.get(n, p.default), self.name) for n, p in names.items()}


class Logits(nn.Module):
    """The model as Captum sees it: normalised clips (n, T, C, H, W) -> logits (n, K).

    An nn.Module (not a bound method) so DeepLift can hook its non-linearities.
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def _baseline(net: Logits, x: torch.Tensor, kind: str) -> torch.Tensor:
    cfg = net.model.config
    return make_baseline(x.detach(), kind, cfg.mean, cfg.std)


def _baseline_param(default: str) -> ParamSpec:
    return ParamSpec("baseline", "choice", default, choices=BASELINES,
                     help="what 'absent' means: black frames, blurred frames, or the clip's mean frame")


# Blur by default: a black frame is itself a strong, out-of-distribution signal to a trained
# model (on `order` an all-black clip reads as "red-first"), so it makes a poor "nothing here".
# Frame ablation removes a moment, so it uses the clip's mean frame.
BASELINE = _baseline_param("blur")


def _saliency(net, x, target, p, budget):
    return ca.Saliency(net).attribute(x.requires_grad_(), target=target, abs=p["abs"]), None, {}


def _input_x_gradient(net, x, target, p, budget):
    return ca.InputXGradient(net).attribute(x.requires_grad_(), target=target), None, {}


def _integrated_gradients(net, x, target, p, budget):
    # Captum runs at least two steps per internal batch, so leave room for 2 rows per clip
    ibs = p["internal_batch_size"] or max(2 * len(x), budget.backward_rows)
    # Captum's chunked path costs ~20% more even when all steps fit one chunk: use it only to split
    chunked = ibs < p["n_steps"] * len(x)
    attr, delta = BroadcastIntegratedGradients(net).attribute(
        x, baselines=_baseline(net, x, p["baseline"]), target=target, n_steps=p["n_steps"],
        internal_batch_size=ibs if chunked else None, return_convergence_delta=True)
    return attr, delta, {"internal_batch_size": ibs}


def _smoothgrad(net, x, target, p, budget):
    # NoiseTunnel draws its noise from torch's global RNG. Each clip gets its own draw inside
    # fork_rng seeded with `seed`: repeatable, the same for a clip alone or in a batch, and the
    # caller's RNG stream is left exactly as it was.
    tunnel = ca.NoiseTunnel(ca.Saliency(net))
    per_batch = max(1, min(p["nt_samples"], budget.backward_rows))
    devices = [x.device] if x.device.type == "cuda" else []
    out = []
    for i in range(len(x)):
        xi = x[i:i + 1]
        sigma = p["noise"] * float(xi.max() - xi.min())  # noise level as a share of the input range
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(p["seed"])
            out.append(tunnel.attribute(xi, nt_type="smoothgrad", nt_samples=p["nt_samples"],
                                        nt_samples_batch_size=per_batch, stdevs=sigma,
                                        target=target[i:i + 1], abs=True))
    return torch.cat(out), None, {"nt_samples_batch_size": per_batch}


def _occlusion(net, x, target, p, budget):
    n, T, C, H, W = x.shape
    win, frames = min(p["window"], H, W), min(p["frames"], T)
    stride = min(p["stride"], win)
    windows = ((T - frames) // frames + 1) * ((H - win) // stride + 1) * ((W - win) // stride + 1)
    per_eval = max(1, min(windows, budget.forward_rows // n))
    attr = ca.Occlusion(net).attribute(
        x, sliding_window_shapes=(frames, C, win, win), strides=(frames, C, stride, stride),
        baselines=_baseline(net, x, p["baseline"]), target=target, perturbations_per_eval=per_eval)
    return attr, None, {"window": win, "stride": stride, "frames": frames, "perturbations_per_eval": per_eval}


def _frame_ablation(net, x, target, p, budget):
    n, T, C, H, W = x.shape
    mask = torch.arange(T, device=x.device).view(1, T, 1, 1, 1).expand(1, T, C, H, W)  # one group per frame
    per_eval = max(1, min(T, budget.forward_rows // n))  # T ablations batched: T+1 passes in ceil(T/per_eval)+1 calls
    attr = ca.FeatureAblation(net).attribute(
        x, baselines=_baseline(net, x, p["baseline"]), target=target, feature_mask=mask,
        perturbations_per_eval=per_eval)
    return attr, None, {"perturbations_per_eval": per_eval}


def conv_block(model: nn.Module, block: int) -> tuple[nn.Module, str]:
    """(the layer Grad-CAM reads, its name): `model.blocks[block]` for the CNN, else the frame
    encoder itself (a hand-crafted encoder's edge, orientation or pixel cells, or a user's
    module's maps), whose one "block" is 0 (or -1). Its output has batch B*T."""
    if model.blocks is None:
        if block not in (0, -1):
            raise LabkitError(f"grad_cam: block={block} is out of range; the {model.config.frame_encoder!r} frame "
                              f"encoder gives one map (use block=0 or -1)")
        return model.frame_encoder, model.frame_encoder_name
    n = len(model.blocks)
    if not -n <= block < n:
        raise LabkitError(f"grad_cam: block={block} is out of range; the model has {n} conv block(s) "
                         f"(use 0..{n - 1}, or -1 for the last)")
    return model.blocks[block], f"blocks.{block % n}"


def _needs_feature_maps(model: nn.Module) -> str | None:
    if model.blocks is not None and len(model.blocks) == 0:
        return ("Grad-CAM reads a conv block's maps but this model has none (conv_channels=()); "
                "use integrated_gradients or occlusion")
    if summary(model, frames=1).totals["map_shape"][1:] == (1, 1):
        return (f"Grad-CAM weighs the cells of the frame encoder's map, but {model.config.frame_encoder!r} gives a "
                "vector per frame (a 1x1 map): there is nowhere to point; use integrated_gradients or occlusion")
    return None


def _grad_cam(net, x, target, p, budget):
    n, T, C, H, W = x.shape
    layer, name = conv_block(net.model, p["block"])
    # DCRN folds frames into the batch, so the layer's output, and Grad-CAM's map, is (n*T, 1, h, w)
    cam = ca.LayerGradCam(net, layer).attribute(x.requires_grad_(), target=target, relu_attributions=p["relu"])
    cam = F.interpolate(cam, size=(H, W), mode="bilinear", align_corners=False)  # (n*T, 1, H, W)
    return cam.reshape(n, T, 1, H, W), None, {"layer": name}


DEEPLIFT_ACTIVATIONS = ("relu", "elu", "tanh")


def _deeplift_reach(model: nn.Module) -> str | None:
    """Why DeepLift's rescale rules cannot cover the model, or None.

    Captum applies them through hooks on non-linear modules (ReLU, Tanh, MaxPool, ...); a
    non-linearity computed anywhere else (inside a fused nn.LSTM, or as a product of two
    tensors in forward: gates, attention) gets the plain gradient, and the "DeepLift" map
    would be a gradient in disguise. A TCN (Conv1d + nn.ReLU modules) is covered.
    """
    cfg = model.config
    opaque = model.encoder_stage.opaque_ops(cfg) or model.temporal_stage.opaque_ops(cfg)
    if opaque is not None:
        return (f"DeepLift's rescale rules cannot reach {opaque}, so the result would be a plain gradient in "
                "disguise; use integrated_gradients, or a model with cell='none' (preset 'frame-only') or cell='tcn' "
                "and frame_encoder 'cnn' or 'pixels'")
    if model.blocks is not None and cfg.activation not in DEEPLIFT_ACTIVATIONS:
        return (f"Captum has no DeepLift rule for activation={cfg.activation!r}; it supports "
                f"{list(DEEPLIFT_ACTIVATIONS)}; use integrated_gradients")
    return None


def _deeplift(net, x, target, p, budget):
    with warnings.catch_warnings():  # Captum announces its temporary hooks on every call
        warnings.filterwarnings("ignore", message="Setting forward, backward hooks")
        attr, delta = ca.DeepLift(net).attribute(x.requires_grad_(), baselines=_baseline(net, x, p["baseline"]),
                                                 target=target, return_convergence_delta=True)
    return attr, delta, {}


METHODS: tuple[MethodSpec, ...] = (
    MethodSpec("saliency", "Saliency (gradient)", (
        ParamSpec("abs", "bool", True, help="absolute gradients (the classic saliency map)"),),
        "gradient of the target logit w.r.t. every input pixel", run=_saliency),
    MethodSpec("input_x_gradient", "Input x gradient", (),
               "gradient times the (normalised) input", frame_score="signed_mass", run=_input_x_gradient),
    MethodSpec("integrated_gradients", "Integrated gradients", (
        ParamSpec("n_steps", "int", 32, 2, 256, help="points on the path from baseline to clip"),
        BASELINE,
        ParamSpec("internal_batch_size", "int", None, 1, 4096,
                  help="clips per forward+backward pass; empty = chosen from the memory budget")),
        "path integral of gradients from a baseline to the clip; sums to the logit difference",
        frame_score="signed_mass", run=_integrated_gradients),
    MethodSpec("smoothgrad", "SmoothGrad (NoiseTunnel)", (
        ParamSpec("nt_samples", "int", 16, 1, 128, help="noisy copies averaged"),
        ParamSpec("noise", "float", 0.15, 0.0, 1.0, help="noise std as a share of the clip's value range"),
        ParamSpec("seed", "int", 0, 0, 2**31 - 1, help="seed of the noise: same seed, same map")),
        "saliency averaged over noisy copies of the clip", run=_smoothgrad),
    MethodSpec("occlusion", "Occlusion (spatio-temporal windows)", (
        ParamSpec("window", "int", 16, 1, 512, help="side of the square patch in pixels"),
        ParamSpec("stride", "int", 8, 1, 512, help="step between patches in pixels"),
        ParamSpec("frames", "int", 2, 1, 512, help="frames covered by one window (and its temporal step)"),
        BASELINE),
        "logit drop when a patch of a few frames is replaced by the baseline",
        reduce="mean", frame_score="mean", run=_occlusion),
    MethodSpec("grad_cam", "Grad-CAM", (
        ParamSpec("block", "int", -1, -64, 63,
                  help="conv block index into model.blocks (-1: the last); 0 or -1 for any other frame encoder"),
        ParamSpec("relu", "bool", True, help="keep only evidence for the target (ReLU of the map)")),
        "channel-weighted activations of one conv block (or the frame encoder's map), upsampled to every frame",
        run=_grad_cam, refuse=_needs_feature_maps),
    MethodSpec("frame_ablation", "Frame ablation", (_baseline_param("temporal_mean"),),
               "logit drop when one whole frame is replaced by the baseline (T+1 forward passes)",
               reduce="mean", frame_score="drop", run=_frame_ablation),
    MethodSpec("deeplift", "DeepLift", (BASELINE,),
               "DeepLift rescale rule vs a baseline; models whose non-linearities are all modules "
               "(cell 'none' or 'tcn')", frame_score="signed_mass", run=_deeplift, refuse=_deeplift_reach),
)
REGISTRY: dict[str, MethodSpec] = {m.name: m for m in METHODS}


def get(name: str) -> MethodSpec:
    """The spec of a method by name; unknown names raise a ValueError listing the methods."""
    if name not in REGISTRY:
        raise LabkitError(f"unknown attribution method {name!r}; choose one of {list(REGISTRY)}")
    return REGISTRY[name]


def methods() -> list[MethodSpec]:
    """Every attribution method with its parameter specs, in display order."""
    return list(METHODS)
