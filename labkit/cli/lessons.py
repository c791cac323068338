"""`labkit lessons [--check] [--quick] [--only NAME ...] [--root DIR]`: run the lab's lessons and
print one line per claim (SUPPORTED or NOT SUPPORTED, with the measured figures and their 95%
interval); with --check, exit 1 when any claim is not supported."""
from __future__ import annotations

import json


def _lessons(args) -> int:
    from labkit import lessons

    results = lessons.run(args.only or None, quick=args.quick, root=args.root, progress=not args.no_progress)
    for result in results:
        print(f"# {result.title} ({len(result.table)} runs, {result.seconds:.0f} s)", flush=True)
        for claim in result.claims:
            print(claim.line(), flush=True)
    claims = [c for r in results for c in r.claims]
    supported = sum(c.supported for c in claims)
    print(json.dumps({"claims": len(claims), "supported": supported, "seconds": round(sum(r.seconds for r in results), 1),
                      "root": str(lessons.lessons_root(args.root))}), flush=True)
    return 1 if args.check and supported < len(claims) else 0


def register(sub) -> None:
    from labkit.lessons import LESSONS

    p = sub.add_parser("lessons", help="run the lessons; one line per claim, measured over seeds")
    p.add_argument("--check", action="store_true", help="exit 1 unless every claim is supported")
    p.add_argument("--quick", action="store_true", help="the quick versions (what the fast notebooks show)")
    p.add_argument("--only", nargs="+", choices=list(LESSONS), metavar="NAME",
                   help=f"run only these lessons: {', '.join(LESSONS)}")
    p.add_argument("--root", default=None,
                   help="where lessons keep their runs (default $LABKIT_LESSONS_ROOT or runs/lessons); "
                        "finished runs are reused")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_lessons)
