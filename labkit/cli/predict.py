"""`labkit predict RUN PATH...`: a trained run on new videos. One row per clip (path, predicted,
probability, the top-k classes, seconds); with --window/--stride, a timeline over each (long)
video (one row per window, every class's probability) and the segments each class leads.
--out writes the table as .csv or .jsonl."""
from __future__ import annotations

import pandas as pd

from labkit.errors import LabkitError

from .options import output_file

UNITS = ("frames", "seconds")


def _show(table: pd.DataFrame) -> None:
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.max_colwidth", 60,
                           "display.max_rows", 200, "display.float_format", "{:.3f}".format):
        print(table.to_string(index=False) if len(table) else "(nothing to show)", flush=True)


def _write(table: pd.DataFrame, out) -> None:
    if out.suffix.lower() == ".csv":
        table.to_csv(out, index=False)
    else:
        table.to_json(out, orient="records", lines=True)
    print(f"wrote {out}", flush=True)


def _predict(args) -> int:
    from labkit import runs

    out = output_file(args.out, "--out", (".csv", ".jsonl")) if args.out else None
    if (args.window is None) != (args.stride is None):
        raise LabkitError("--window and --stride go together: give both (e.g. --window 16 --stride 4), or neither")
    if args.window is None:
        table = runs.predict(args.run_dir, args.paths, top_k=args.top_k, on_error=args.on_error)
        skipped = table.attrs.get("skipped")
        _show(table)
        if skipped is not None and len(skipped):
            print(f"\nskipped {len(skipped)} input(s):\n" + skipped.to_string(index=False), flush=True)
    else:
        if args.window <= 0 or args.stride <= 0:
            raise LabkitError(f"--window {args.window} and --stride {args.stride} must both be positive")
        parts = [runs.timeline(args.run_dir, path, args.window, args.stride, unit=args.unit) for path in args.paths]
        table = pd.concat(parts, ignore_index=True)
        _show(table)
        for part in parts:
            if len(part):
                print(f"\n{part['path'].iloc[0]}: " + ", ".join(runs.segments(part, smooth=args.smooth)["text"]))
    if out is not None:
        _write(table, out)
    return 0


def register(sub) -> None:
    p = sub.add_parser("predict", help="predict new videos with a trained run (or a timeline over long ones)")
    p.add_argument("run_dir", help="a run folder written by `labkit train` or train.fit")
    p.add_argument("paths", nargs="+", help="video files, frame folders, a folder of videos or of <class>/<clip>, "
                                            "or a manifest .csv")
    p.add_argument("--top-k", type=int, default=3, help="classes listed per clip (default 3)")
    p.add_argument("--on-error", default="raise", choices=["raise", "skip"],
                   help="skip: leave unreadable clips out and list them (default: stop at the first)")
    p.add_argument("--window", type=float, default=None, help="timeline: window length (in --unit)")
    p.add_argument("--stride", type=float, default=None, help="timeline: step between windows (in --unit)")
    p.add_argument("--unit", default="frames", choices=list(UNITS), help="unit of --window/--stride and of the "
                                                                         "timeline's start/end")
    p.add_argument("--smooth", type=int, default=3, help="timeline segments: windows averaged (default 3)")
    p.add_argument("--out", default="", help="also write the table here (.csv or .jsonl)")
    p.set_defaults(func=_predict)
