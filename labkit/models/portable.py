"""A trained model outside Python: TorchScript or ONNX, checked against the model it came from.

    report = models.export(model, "model.onnx", "onnx", clips)   # clips: uint8 (N, T, H, W, C)
    report.max_abs_diff, report.variable_frames, report.note

The exported graph takes raw clips as datasets hold them, uint8 (N, T, H, W, C), and returns
logits (N, classes): the lab's preprocessing (scale to [0, 1], normalise with the config's
mean/std) is part of it, so a C++ or ONNX Runtime caller needs nothing from labkit. The batch
and frame axes are left free; after writing, the file is loaded again (torch.jit.load, or an
ONNX Runtime CPU session) and run on the example clips and on the same clips cut to fewer
frames, and both must match the model within tolerance. Where the graph fixed the number of
frames (an op that read T as a constant while it was recorded), the report says so and names
the one length it takes. Padded batches of clips of different lengths (`lengths`) are not part
of an export: feed same-length clips, or one clip at a time.
"""
from __future__ import annotations

import copy
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from labkit.errors import LabkitError

FORMATS = ("torchscript", "onnx")
ATOL, RTOL = 1e-4, 1e-3  # float32 graphs fuse and reorder ops: logits agree to about 1e-6 here


class RawClips(nn.Module):
    """`model` as exported: uint8 clips (N, T, H, W, C) -> logits (N, K), preprocessing inside."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor(model.config.mean).view(1, 1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(model.config.std).view(1, 1, -1, 1, 1))

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        x = clips.permute(0, 1, 4, 2, 3).float()  # (N, T, C, H, W), as DCRN.preprocess
        return self.model((x / 255.0 - self.mean) / self.std)


@dataclass
class ExportReport:
    """What an export wrote and how well the file matches the model: max_abs_diff over every
    check; checked: the clip shapes run; variable_frames: the file takes any number of frames
    (else only `fixed_frames`); note: that in words."""

    path: str
    format: str
    max_abs_diff: float
    checked: list
    variable_frames: bool
    fixed_frames: int | None
    note: str

    def to_dict(self) -> dict:
        return asdict(self)


def _write(wrapped: nn.Module, example: torch.Tensor, path: Path, format: str) -> None:
    with warnings.catch_warnings():  # tracer notes on Python values, and the legacy exporter's notice
        warnings.simplefilter("ignore")
        if format == "torchscript":
            torch.jit.trace(wrapped, example, check_trace=False).save(str(path))
            return
        torch.onnx.export(wrapped, (example,), str(path), input_names=["clips"], output_names=["logits"],
                          dynamic_axes={"clips": {0: "batch", 1: "frames"}, "logits": {0: "batch"}}, dynamo=False)


def load_exported(path, format: str):
    """A callable uint8 clips (N, T, H, W, C) numpy -> logits numpy, from an exported file."""
    if format == "torchscript":
        module = torch.jit.load(str(path), map_location="cpu")
        return lambda clips: module(torch.from_numpy(clips)).detach().numpy()
    try:
        import onnxruntime
    except ImportError:
        raise LabkitError("checking an ONNX export needs onnxruntime; install the lab's pinned set again "
                          "(make setup)") from None
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4  # a shape the graph fixed is refused with an error we report ourselves
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda clips: session.run(None, {"clips": clips})[0]


def _difference(run, wrapped: nn.Module, clips: np.ndarray) -> float | None:
    """Max |file - model| on `clips`, or None when the file refuses them or disagrees beyond tolerance."""
    with torch.no_grad():
        expected = wrapped(torch.from_numpy(clips)).numpy()
    try:
        got = run(clips)
    except Exception:  # a runtime refusing a shape the graph fixed while recording (each has its own error types)
        return None
    if got.shape != expected.shape or not np.allclose(got, expected, atol=ATOL, rtol=RTOL):
        return None
    return float(np.abs(got - expected).max())


def export(model: nn.Module, path, format: str, clips: np.ndarray) -> ExportReport:
    """Write `model` (a DCRN) to `path` as "torchscript" or "onnx", reload it, and check it on
    `clips` (uint8 (N, T, H, W, C), T >= 2) and on them cut to T // 2 frames. Raises a
    LabkitError (and removes the file) when it does not match the model on the full clips."""
    if format not in FORMATS:
        raise LabkitError(f"format={format!r}; choose one of {list(FORMATS)}")
    clips = np.ascontiguousarray(clips)
    if clips.dtype != np.uint8 or clips.ndim != 5 or clips.shape[1] < 2:
        raise LabkitError(f"export: example clips must be uint8 (N, T, H, W, C) with T >= 2; got {clips.dtype} "
                          f"{clips.shape}")
    wrapped = RawClips(copy.deepcopy(model).cpu().eval()).eval()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(wrapped, torch.from_numpy(clips), path, format)
    run, T = load_exported(path, format), clips.shape[1]
    full = _difference(run, wrapped, clips)
    if full is None:
        path.unlink(missing_ok=True)
        raise LabkitError(f"export: the {format} file did not reproduce the model on the example clips, so it was "
                          f"not kept; export the other format, or report this with the model's config")
    short = _difference(run, wrapped, np.ascontiguousarray(clips[:, :T // 2]))
    checked = [list(clips.shape)] + ([[*clips.shape[:1], T // 2, *clips.shape[2:]]] if short is not None else [])
    if short is not None:
        note = f"takes any number of frames (checked at {T} and {T // 2})"
    else:
        note = f"takes clips of exactly {T} frames: the graph fixed the length while it was recorded"
    return ExportReport(str(path), format, max(full, short or 0.0), checked, short is not None,
                        None if short is not None else T, note)
