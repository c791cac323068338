"""`labkit explain RUN_DIR --data SPEC --index I --method M --out page.html`: one clip of a
dataset explained by a trained run, written as a standalone page (no server, no network)."""
from __future__ import annotations

import json
from pathlib import Path


def parse_params(pairs: list[str] | None) -> dict:
    """["n_steps=16", "baseline=black"] -> {"n_steps": "16", "baseline": "black"}; the method's
    specs convert the strings (explain.MethodSpec.resolve)."""
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--param {pair!r}: expected name=value, e.g. --param n_steps=16")
        out[key] = value
    return out


def _explain(args) -> int:
    import numpy as np

    from labkit import explain, runs
    from labkit.cli.train import load_data
    from labkit.explain.page import explanation_page

    shape = ((runs.read_config(args.run_dir).get("data") or {}).get("train") or {}).get("clip_shape") or [16, 64]
    model = runs.load(args.run_dir)
    ds = load_data(args.data, args.n, args.frames or shape[0], args.size or shape[1], args.seed)
    if not 0 <= args.index < len(ds):
        raise ValueError(f"--index {args.index} is out of range; the data has {len(ds)} clips (0..{len(ds) - 1})")
    if ds.num_classes != model.config.num_classes:
        raise ValueError(f"--data has {ds.num_classes} classes but the run's model predicts "
                         f"{model.config.num_classes}; pass the data the run was trained on")
    clip, label = ds[args.index]
    target = args.target
    if target is not None and target.lstrip("-").isdigit():
        target = int(target)
    attr = explain.attribute(model, clip, target=target, method=args.method, classes=ds.classes,
                             **parse_params(args.param))
    evidence = None if getattr(ds, "evidence_frames", None) is None else np.asarray(ds.evidence_frames)[args.index]
    page = explanation_page(clip, attr, model.predict_proba(clip)[0], ds.classes, label=int(label),
                            evidence_frames=evidence, title=f"{Path(args.run_dir).name}: clip {args.index} of {args.data}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    print(f"wrote {out}", flush=True)
    print(json.dumps({"out": str(out), "method": attr.method, "index": args.index, "label": ds.classes[int(label)],
                      "target": ds.classes[int(attr.target[0])], "predicted": ds.classes[int(attr.predicted[0])],
                      "probability": float(attr.probability[0]),
                      "frame_scores": [float(s) for s in attr.frame_scores[0]],
                      "completeness_error": attr.completeness_error()}), flush=True)  # None: no delta
    return 0


def register(sub) -> None:
    from labkit.explain.methods import REGISTRY

    p = sub.add_parser("explain", help="explain one clip with a trained run; writes a standalone HTML page")
    p.add_argument("run_dir", help="a run folder written by `labkit train`")
    p.add_argument("--data", required=True, help="synthetic:direction|order|digits, or a folder of clips")
    p.add_argument("--index", type=int, default=0, help="which clip of the data")
    p.add_argument("--method", default="integrated_gradients", choices=list(REGISTRY), help="attribution method")
    p.add_argument("--target", default=None, help="class index or name to explain (default: the predicted class)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="a method parameter (repeatable), e.g. --param n_steps=16 --param baseline=black")
    p.add_argument("--out", required=True, help="the HTML page to write")
    p.add_argument("--n", type=int, default=2000, help="clips to generate (synthetic data)")
    p.add_argument("--frames", type=int, default=None, help="frames per clip (default: the run's)")
    p.add_argument("--size", type=int, default=None, help="frame side in pixels (default: the run's)")
    p.add_argument("--seed", type=int, default=1, help="synthetic data seed (default 1, as `labkit evaluate`)")
    p.set_defaults(func=_explain)
