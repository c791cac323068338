"""`labkit explain RUN_DIR [--data SPEC | --video FILE] --index I --method M --out page.html|x.mp4|x.gif`:
one clip explained by a trained run — by default a clip of the run's own validation data, rebuilt
from its recipe, or a video file of yours read with the run's own preprocessing — written as a
standalone page (no server, no network) or as the clip with its heatmap frame by frame."""
from __future__ import annotations

import json
from pathlib import Path

from labkit.errors import LabkitError

from .data_source import add_data_arguments, run_data
from .options import output_file, parse_pairs

OUTPUTS = (".html", ".htm", ".mp4", ".gif")


def _clip(args, config: dict):
    """(clip uint8 (T, H, W, C), label or None, classes, evidence frames or None, what it is)."""
    import numpy as np

    from labkit import runs
    from labkit.data.decode import load_clip

    if args.video is not None:
        if args.data is not None:
            raise LabkitError("give --video FILE or --data SPEC, not both")
        prep = runs.preprocessing(config)
        clip, _ = load_clip(args.video, prep["frames"], prep["size"], prep["crop"])
        return clip, None, prep["classes"], None, Path(args.video).name
    ds, split = run_data(args, config)
    if not 0 <= args.index < len(ds):
        raise LabkitError(f"--index {args.index} is out of range; the data has {len(ds)} clips (0..{len(ds) - 1})")
    clip, label = ds[args.index]
    evidence = None if getattr(ds, "evidence_frames", None) is None else np.asarray(ds.evidence_frames)[args.index]
    return clip, int(label), ds.classes, evidence, f"clip {args.index} of {args.data or f'its {split} clips'}"


def _explain(args) -> int:
    from labkit import explain, runs, viz

    out = output_file(args.out, "--out", OUTPUTS)
    config = runs.read_config(args.run_dir)
    model = runs.load(args.run_dir)
    clip, label, classes, evidence, what = _clip(args, config)
    target = int(args.target) if args.target is not None and args.target.lstrip("-").isdigit() else args.target
    attr = explain.attribute(model, clip, target=target, method=args.method, classes=classes,
                             **parse_pairs(args.param, "--param", "n_steps=16"))
    if out.suffix.lower() in (".mp4", ".gif"):
        explain.export(clip, attr, out, fps=args.fps)
    else:
        out.write_text(viz.explanation_page(clip, attr, model.predict_proba(clip)[0], classes, label=label,
                                            evidence_frames=evidence, title=f"{Path(args.run_dir).name}: {what}"),
                       encoding="utf-8")
    print(f"wrote {out}", flush=True)
    print(json.dumps({"out": str(out), "method": attr.method, "clip": what, "index": args.index,
                      "label": None if label is None else classes[label],
                      "target": classes[int(attr.target[0])], "predicted": classes[int(attr.predicted[0])],
                      "probability": float(attr.probability[0]),
                      "frame_scores": [float(s) for s in attr.frame_scores[0]],
                      "completeness_error": attr.completeness_error()}), flush=True)  # None: no delta
    return 0


def register(sub) -> None:
    from labkit.explain.registry import REGISTRY

    p = sub.add_parser("explain", help="explain one clip with a trained run: an HTML page, or an mp4/gif of it")
    p.add_argument("run_dir", help="a run folder written by `labkit train`")
    add_data_arguments(p, run=True)
    p.add_argument("--video", default=None, help="explain this video file or frame folder instead "
                                                 "(read with the run's frames, size and crop)")
    p.add_argument("--index", type=int, default=0, help="which clip of the data")
    p.add_argument("--method", default="integrated_gradients", choices=list(REGISTRY), help="attribution method")
    p.add_argument("--target", default=None, help="class index or name to explain (default: the predicted class)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a method parameter (repeatable), e.g. --param n_steps=16 --param baseline=black")
    p.add_argument("--fps", type=float, default=4.0, help="frames per second of an .mp4/.gif (default 4)")
    p.add_argument("--out", required=True, help="write here: .html (an interactive page), .mp4 or .gif (the clip "
                                                "with its heatmap and frame importance)")
    p.set_defaults(func=_explain)
