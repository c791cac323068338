"""`labkit data make NAME --clips N --out DIR` writes a built-in task as real video files;
`labkit data inspect PATH` prints what a folder of clips (or a manifest) holds and what is wrong with it."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from labkit.errors import LabkitError
from .options import parse_pairs


def _make(args) -> int:
    from labkit import data
    from labkit.data.export import FORMATS, check_fps, check_out

    if args.format not in FORMATS:
        raise LabkitError(f"--format {args.format}; choose one of {list(FORMATS)}")
    out = Path(args.out)
    check_fps(args.fps, "--fps")  # say so before generating the data, and before writing anything
    check_out(out, args.overwrite, "--out", "--overwrite")
    options = parse_pairs(args.data_option, "--data-option", "gap=10")
    ds = data.synthetic(args.name, n=args.clips, frames=args.frames, size=args.size, seed=args.seed, **options)
    table = data.write_dataset(ds, out, format=args.format, fps=args.fps, progress=not args.quiet,
                               overwrite=args.overwrite)
    counts = table.groupby("label", sort=False).size().reindex(ds.classes).rename("clips")
    print(counts.to_frame().to_string())
    print(f"wrote {len(table)} clips ({args.frames}x{args.size}x{args.size}, {args.format}) to {out}/<class>/ "
          f"and {out / 'manifest.csv'};\nload them with data.folder({str(out)!r}, frames={args.frames}, "
          f"size={args.size})")
    return 0


def _inspect(args) -> int:
    from labkit import data

    report = data.inspect(args.path)
    with pd.option_context("display.width", 200, "display.max_colwidth", 120, "display.max_rows", None):
        print(report.classes.to_string(index=False) if len(report.classes) else "no clips found")
        if len(report.problems):
            print(f"\n{len(report.problems)} problem(s):")
            print(report.problems.to_string(index=False))
        else:
            print("\nno problems")
    return 1 if len(report.problems) else 0


def register(sub) -> None:
    p = sub.add_parser("data", help="make a built-in task as video files, or inspect a folder of clips")
    cmds = p.add_subparsers(dest="data_command", required=True)
    m = cmds.add_parser("make", help="write a built-in task as <out>/<class>/<clip>.<format> + manifest.csv")
    m.add_argument("name", help="built-in task: direction, order or digits")
    m.add_argument("--clips", type=int, default=200, help="number of clips (default 200)")
    m.add_argument("--out", required=True, help="folder to write (must be new or empty)")
    m.add_argument("--frames", type=int, default=16)
    m.add_argument("--size", type=int, default=64)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--format", default="mp4", help="mp4, mov, mkv, avi, webm, or png/jpg frame folders")
    m.add_argument("--fps", type=int, default=8, help="frames per second of the videos, > 0 (default 8)")
    m.add_argument("--data-option", action="append", default=[], metavar="KEY=VALUE",
                   help="task option, repeatable: e.g. gap=10 (order), label=direction (digits); "
                        "values are JSON where they parse (flash_size=[8,12])")
    m.add_argument("--overwrite", action="store_true",
                   help="write into an --out that labkit wrote before, first removing the files its "
                        ".labkit-dataset list names (a folder without that list is refused, never deleted)")
    m.add_argument("--quiet", action="store_true", help="no progress bar")
    m.set_defaults(func=_make)
    i = cmds.add_parser("inspect", help="classes, counts, lengths, resolutions and problems of a folder or manifest")
    i.add_argument("path", help="<root> with <class>/<clip> inside, or a manifest .csv")
    i.set_defaults(func=_inspect)
