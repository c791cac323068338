"""Where and in which precision training runs: device choice, autocast, grad scaling, threads."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from labkit.errors import LabkitError
from labkit.models import keep_freed_memory

from .config import PRECISIONS


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """`"auto"` -> CUDA if available, else MPS, else CPU; anything else is passed to torch.device
    and refused, naming what this machine has, when that device is not there."""
    if device != "auto":
        try:
            dev = torch.device(device)
        except (RuntimeError, TypeError) as e:
            raise LabkitError(f"device={device!r} is not a torch device; use 'auto', 'cpu', 'cuda', 'cuda:1' "
                              f"or 'mps'") from e
        _check_available(dev)
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _check_available(dev: torch.device) -> None:
    has = "a CPU" + (f" and {torch.cuda.device_count()} CUDA GPU(s)" if torch.cuda.is_available() else "")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            build = "a CPU-only build of PyTorch" if torch.version.cuda is None else "no usable CUDA GPU"
            raise LabkitError(f"device={str(dev)!r}: this machine has {build}; use device='cpu' (or 'auto'), or "
                              f"install the CUDA build of torch on a machine with a GPU")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise LabkitError(f"device={str(dev)!r}: this machine has {has}; use cuda:0 .. "
                              f"cuda:{torch.cuda.device_count() - 1}")
    if dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise LabkitError(f"device='mps': Apple's GPU is not available here (this machine has {has}); "
                              f"use device='auto'")


@dataclass(frozen=True)
class Precision:
    """The resolved mixed-precision plan for one device: `dtype` None means plain fp32."""

    device: torch.device
    dtype: torch.dtype | None

    def autocast(self):
        """Context manager running the forward pass in `dtype` (a no-op for fp32)."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def grad_scaler(self) -> torch.amp.GradScaler:
        """Loss scaling, enabled for fp16 only (its gradients underflow without it; bf16 and fp32
        need none). A disabled scaler passes every call straight through, so the training step
        is one code path whatever the precision."""
        return torch.amp.GradScaler(self.device.type, enabled=self.dtype is torch.float16)

    @property
    def name(self) -> str:
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]


def resolve_precision(precision: str, device: torch.device) -> Precision:
    """`precision`: "fp32", "bf16", "fp16" or "auto" (`TrainConfig.precision`).

    "auto" means bf16 on CPU and on CUDA GPUs that support it, else fp16 (with loss scaling);
    fp16 on MPS. fp16 on CPU is refused: CPU autocast only speeds up bf16.
    """
    if precision not in PRECISIONS:
        raise LabkitError(f"precision={precision!r}; choose one of {list(PRECISIONS)}")
    if precision == "fp32":
        return Precision(device, None)
    if precision == "auto":
        if device.type == "cuda":
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        else:
            precision = "fp16" if device.type == "mps" else "bf16"
    if precision == "fp16" and device.type == "cpu":
        raise LabkitError("precision='fp16' is not supported on CPU; use precision='bf16' or 'fp32'")
    return Precision(device, torch.bfloat16 if precision == "bf16" else torch.float16)


def configure_backend(device: torch.device) -> None:
    """Per-device speed settings: cuDNN autotuning on CUDA (clip shapes repeat every batch); on
    CPU, keep freed activation memory in the process (models.keep_freed_memory: the seed step
    runs ~2x faster, the process's memory stays at its peak between steps)."""
    if device.type == "cpu":
        keep_freed_memory()
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


@contextlib.contextmanager
def num_threads(threads: int | None):
    """Run a block with `threads` intra-op CPU threads (None: leave torch's setting alone)."""
    if threads is None:
        yield
        return
    if threads < 1:
        raise LabkitError(f"threads={threads}; must be >= 1 (or None for torch's default)")
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
