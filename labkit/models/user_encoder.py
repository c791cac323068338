"""A user's own frame encoder: any nn.Module taking normalised frames (N, C, H, W) to feature
maps (N, C', h, w) or vectors (N, F) (read as (N, F, 1, 1) maps), in the place of the CNN.

    model = models.build(config, frame_encoder=MyEncoder(width=16))

A run folder holds its weights (they are in the model's state dict, under `encoder.`) and the
config records how to build it again: `frame_encoder` = "package.module:qualname" of the factory
(the module's class, unless the config already names a factory) and `encoder_kwargs` its
keyword arguments. Loading imports that factory and calls it; where it cannot, the error says
which factory and arguments it needs. Its plan is measured, not derived: parameters counted, the
output shape and the matmul FLOPs (conv, linear, bmm: `torch.utils.flop_counter`) read from one
probe frame. Elementwise ops inside a user's module are not counted (it has no formula to count).
"""
from __future__ import annotations

import importlib
import warnings

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from labkit.errors import LabkitError
from .rows import Layer


def factory_name(module: nn.Module) -> str:
    """"package.module:qualname" of a module's class: how a config names the factory that rebuilds it."""
    return f"{type(module).__module__}:{type(module).__qualname__}"


def resolve_factory(spec: str):
    """The callable that "package.module:qualname" names; a LabkitError saying what is missing."""
    module_name, _, qualname = spec.partition(":")
    if "<locals>" in qualname:
        raise LabkitError(f"frame encoder {spec!r} was defined inside a function, so nothing can import it "
                          f"to build it again; define it at the top level of a module")
    try:
        obj = importlib.import_module(module_name)
    except ImportError as e:
        raise LabkitError(f"frame encoder {spec!r}: module {module_name!r} cannot be imported here ({e}); make it "
                          f"importable (install it, or put its folder on sys.path) and load again") from None
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise LabkitError(f"frame encoder {spec!r}: {module_name!r} has no {qualname!r}; it was renamed or "
                              f"moved since the run was saved: restore it, or set config frame_encoder to where "
                              f"it is now")
    return obj


def build_user_encoder(cfg) -> nn.Module:
    """The encoder a config names: its factory called with `encoder_kwargs`."""
    kwargs = cfg.encoder_kwargs or {}
    try:
        module = resolve_factory(cfg.frame_encoder)(**kwargs)
    except TypeError as e:
        raise LabkitError(f"frame encoder {cfg.frame_encoder!r} could not be built with encoder_kwargs={kwargs} "
                          f"({e}); record its arguments in config.encoder_kwargs") from None
    if not isinstance(module, nn.Module):
        raise LabkitError(f"frame encoder {cfg.frame_encoder!r} built a {type(module).__name__}, not an "
                          f"nn.Module; name a class or a function that returns the module")
    return module


def check_rebuildable(spec: str) -> None:
    """Warn now, while the model is being built, when a run of it could never be loaded again."""
    try:
        resolve_factory(spec)
    except LabkitError as e:
        warnings.warn(f"{e}; until then runs.load cannot rebuild this model (its weights are saved all the same)",
                      UserWarning, stacklevel=4)


def probe(module: nn.Module, cfg) -> tuple[tuple[int, int, int], int]:
    """(map shape (C', h, w), matmul FLOPs per frame) from one frame of zeros through the module in
    eval mode (a probe must not move batch-norm statistics); its training flag is restored."""
    tensors = [*module.parameters(), *module.buffers()]
    x = torch.zeros(1, cfg.in_chans, cfg.img_size, cfg.img_size, device=tensors[0].device if tensors else "cpu")
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            out = module(x)
    finally:
        module.train(was_training)
    if not torch.is_tensor(out) or out.dim() not in (2, 4) or out.shape[0] != 1:
        got = tuple(out.shape) if torch.is_tensor(out) else type(out).__name__
        raise LabkitError(f"frame encoder {cfg.frame_encoder!r} must map frames (N, C, H, W) to maps (N, C', h, w) or "
                          f"vectors (N, F); one {cfg.img_size}x{cfg.img_size} frame gave {got}")
    shape = tuple(out.shape[1:]) if out.dim() == 4 else (out.shape[1], 1, 1)
    return shape, int(counter.get_total_flops())


class UserEncoder:
    """The stage of a user's module (`model.encoder`); static methods, as the other encoders."""

    attr = "encoder"

    @staticmethod
    def plan(cfg, batch: int, frames: int, module: nn.Module | None = None) -> tuple[list[Layer], tuple[int, int, int]]:
        """One row: the module's parameters, its output per frame and its matmul FLOPs. Without a
        module the config's factory builds one to measure."""
        module = build_user_encoder(cfg) if module is None else module
        (c, h, w), flops = probe(module, cfg)
        params = sum(p.numel() for p in module.parameters())
        kind = f"{type(module).__name__} (your module; elementwise ops not counted)"
        return [Layer("encoder", kind, (batch, frames, c, h, w), params=params,
                      matmul_flops=flops * batch * frames)], (c, h, w)

    @staticmethod
    def opaque_ops(cfg) -> None:
        return None  # unknown: DeepLift is right where every non-linearity of the module is an nn.Module
