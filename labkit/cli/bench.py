"""`labkit bench [--sections data,models] [--quick] [--out bench.json]`: print the benchmark table;
`labkit bench --check [--device cuda]`: the device check (`make gpu-check`), exit 1 if a check fails."""
from __future__ import annotations

import json

from .options import output_file


def _run(args) -> int:
    from labkit import bench

    sections = tuple(s for s in args.sections.split(",") if s) if args.sections else None
    if args.out:
        output_file(args.out, "--out", (".json",))
    if args.check:
        from labkit.bench import device_check

        table = bench.table(device_check.rows(args.device, quick=args.quick), "device")
    else:
        table = bench.run(sections, quick=args.quick)
    with __import__("pandas").option_context("display.max_rows", None, "display.width", 200,
                                              "display.max_colwidth", 60):
        print(table.to_string(index=False))
    if args.out:
        with open(args.out, "w") as f:
            records = table.astype(object).where(table.notna(), None).to_dict(orient="records")
            json.dump(records, f, indent=2, default=str, allow_nan=False)  # missing figures: null
        print(f"wrote {args.out}")
    return 1 if args.check and (table["ok"] == False).any() else 0  # noqa: E712 (None: not a pass/fail row)


def register(sub) -> None:
    p = sub.add_parser("bench", help="speed and memory benchmarks (a table, and JSON with --out)")
    p.add_argument("--sections", default="", help="comma-separated subset (default: all)")
    p.add_argument("--quick", action="store_true", help="tiny sizes, to check the benchmark runs")
    p.add_argument("--out", default="", help="also write the rows as JSON here")
    p.add_argument("--check", action="store_true",
                   help="the device check: training with mixed precision, loss curves against the CPU, attribution "
                        "against the CPU, torchrun, explaining (exit 1 if a check fails)")
    p.add_argument("--device", default="auto", help="with --check: cuda, cpu or auto (CUDA if there is one)")
    p.set_defaults(func=_run)
