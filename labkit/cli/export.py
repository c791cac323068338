"""`labkit export RUN_DIR --format torchscript|onnx [--out FILE]`: a run's model as a file that
runs without labkit (TorchScript for C++/Python, ONNX for ONNX Runtime and others), reloaded and
checked against the run's own model before this command says it is done. The file takes raw
uint8 clips (N, T, H, W, C) and returns logits; the last line of stdout is a JSON report
(max_abs_diff, the shapes checked, whether any number of frames works)."""
from __future__ import annotations

import json

from .options import output_file

SUFFIXES = {"torchscript": (".pt", ".ts", ".torchscript"), "onnx": (".onnx",)}


def _export(args) -> int:
    import numpy as np

    from labkit import models, runs
    from labkit.errors import LabkitError

    model = runs.load(args.run_dir, which=args.which)
    shape = ((runs.read_config(args.run_dir).get("data") or {}).get("train") or {}).get("clip_shape")
    if args.frames is not None:
        shape = [args.frames, *shape[1:]] if shape else None
    if not shape or shape[0] is None or shape[0] < 2:
        raise LabkitError(f"{args.run_dir} does not record a clip shape with 2 or more frames; pass --frames T")
    out = output_file(args.out or str(_default_out(args)), "--out", SUFFIXES[args.format])
    clips = np.random.default_rng(0).integers(0, 256, (2, *shape), dtype=np.uint8)  # any pixels check the numbers
    report = models.export(model, out, args.format, clips)
    print(f"wrote {out}: {report.note}; largest difference from the run's model {report.max_abs_diff:.2e}", flush=True)
    print(json.dumps({**report.to_dict(), "run_dir": str(args.run_dir), "which": args.which}), flush=True)
    return 0


def _default_out(args):
    from pathlib import Path

    return Path(args.run_dir) / ("model.onnx" if args.format == "onnx" else "model.torchscript.pt")


def register(sub) -> None:
    p = sub.add_parser("export", help="write a run's model as TorchScript or ONNX, checked against the run")
    p.add_argument("run_dir", help="a run folder written by `labkit train` or train.fit")
    p.add_argument("--format", required=True, choices=["torchscript", "onnx"], help="the file format")
    p.add_argument("--out", default=None,
                   help="the file to write (default: RUN_DIR/model.onnx or RUN_DIR/model.torchscript.pt)")
    p.add_argument("--which", default="best", choices=["best", "last"], help="the run's best or last weights")
    p.add_argument("--frames", type=int, default=None,
                   help="frames of the example clips it is checked on (default: the run's own clip length)")
    p.set_defaults(func=_export)
