"""`labkit` command line: `labkit data|train|evaluate|explain|bench ...`.

Each sub-command lives in its own module with a `register(subparsers)` that adds its parser and
sets `func`; `main` only wires them together.
"""
from __future__ import annotations

import argparse
import importlib
import sys

_COMMAND_MODULES = ("data", "train", "explain", "bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labkit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in _COMMAND_MODULES:
        importlib.import_module(f"labkit.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, ValueError, KeyError) as e:  # user errors: one clear line, no traceback
        print(f"labkit {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
