"""`labkit` command line: `labkit data|train|evaluate|predict|explain|export|lessons|bench ...`.

Each sub-command lives in its own module with a `register(subparsers)` that adds its parser and
sets `func`; `main` only wires them together. A user's mistake (a `labkit.errors.LabkitError`)
is printed as one line and exits 2; anything else is a bug and shows its traceback
(`--debug` shows it for user errors too).
"""
from __future__ import annotations

import argparse
import importlib
import sys

from labkit.errors import LabkitError

_COMMAND_MODULES = ("data", "train", "predict", "explain", "export", "lessons", "bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labkit", description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of every error (may also follow the command's options)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in _COMMAND_MODULES:
        importlib.import_module(f"labkit.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv  # accepted anywhere on the line
    args = build_parser().parse_args([a for a in argv if a != "--debug"])
    try:
        return int(args.func(args) or 0)
    except LabkitError as e:  # a user's mistake: one clear line, no traceback
        if debug:
            raise
        print(f"labkit {args.command}: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
