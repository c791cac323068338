"""`labkit explain RUN_DIR [--data SPEC] --index I --method M --out page.html`: one clip explained
by a trained run (by default a clip of the run's own validation data, rebuilt from its recipe),
written as a standalone page (no server, no network)."""
from __future__ import annotations

import json
from pathlib import Path

from labkit.errors import LabkitError
from .data_source import add_data_arguments, run_data
from .options import output_file, parse_pairs


def _explain(args) -> int:
    import numpy as np

    from labkit import explain, runs, viz

    out = output_file(args.out, "--out", (".html", ".htm"))
    config = runs.read_config(args.run_dir)
    model = runs.load(args.run_dir)
    ds, split = run_data(args, config)
    if not 0 <= args.index < len(ds):
        raise LabkitError(f"--index {args.index} is out of range; the data has {len(ds)} clips (0..{len(ds) - 1})")
    clip, label = ds[args.index]
    target = args.target
    if target is not None and target.lstrip("-").isdigit():
        target = int(target)
    attr = explain.attribute(model, clip, target=target, method=args.method, classes=ds.classes,
                             **parse_pairs(args.param, "--param", "n_steps=16"))
    evidence = None if getattr(ds, "evidence_frames", None) is None else np.asarray(ds.evidence_frames)[args.index]
    page = viz.explanation_page(clip, attr, model.predict_proba(clip)[0], ds.classes, label=int(label),
                                evidence_frames=evidence, title=f"{Path(args.run_dir).name}: clip {args.index} of {args.data or f'its {split} clips'}")
    out.write_text(page, encoding="utf-8")
    print(f"wrote {out}", flush=True)
    print(json.dumps({"out": str(out), "method": attr.method, "split": split, "index": args.index,
                      "label": ds.classes[int(label)],
                      "target": ds.classes[int(attr.target[0])], "predicted": ds.classes[int(attr.predicted[0])],
                      "probability": float(attr.probability[0]),
                      "frame_scores": [float(s) for s in attr.frame_scores[0]],
                      "completeness_error": attr.completeness_error()}), flush=True)  # None: no delta
    return 0


def register(sub) -> None:
    from labkit.explain.registry import REGISTRY

    p = sub.add_parser("explain", help="explain one clip with a trained run; writes a standalone HTML page")
    p.add_argument("run_dir", help="a run folder written by `labkit train`")
    add_data_arguments(p, run=True)
    p.add_argument("--index", type=int, default=0, help="which clip of the data")
    p.add_argument("--method", default="integrated_gradients", choices=list(REGISTRY), help="attribution method")
    p.add_argument("--target", default=None, help="class index or name to explain (default: the predicted class)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a method parameter (repeatable), e.g. --param n_steps=16 --param baseline=black")
    p.add_argument("--out", required=True, help="the HTML page to write")
    p.set_defaults(func=_explain)
