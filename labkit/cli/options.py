"""The command line's one `KEY=VALUE` parser (`--set`, `--data-option`, `--param`), and the
conversion of such values to a dataclass's field types (tuples for tuple fields)."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from labkit.errors import LabkitError


def parse_value(text: str):
    """JSON where it parses ('10' -> 10, 'true' -> True, '[8, 12]' -> [8, 12], 'null' -> None),
    else the text itself ('cosine', '^(person\\d+)_', 'data/my videos')."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def split_pairs(pairs, flag: str, example: str) -> dict[str, str]:
    """["gap=3", "group_pattern=^(p\\d+)_"] -> {"gap": "3", ...}: the raw text of each value.

    `flag` and `example` name the option in the one-line error for a pair without '='.
    """
    out = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise LabkitError(f"{flag} {pair!r}: write KEY=VALUE, e.g. {flag} {example}")
        out[key] = raw
    return out


def parse_pairs(pairs, flag: str, example: str) -> dict:
    """["gap=3", "flash_size=[8, 12]"] -> {"gap": 3, "flash_size": [8, 12]} (see `parse_value`)."""
    return {key: parse_value(raw) for key, raw in split_pairs(pairs, flag, example).items()}


def dataclass_overrides(cls, pairs, flag: str, example: str) -> dict:
    """`parse_pairs` checked against the fields of dataclass `cls`: unknown keys are refused
    naming the valid ones; a tuple field takes a comma list or one value
    (`conv_channels=16,32` -> (16, 32), `conv_channels=16` -> (16,))."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    out = {}
    for key, raw in split_pairs(pairs, flag, example).items():
        if key not in fields:
            raise LabkitError(f"{flag} {key}: not a {cls.__name__} setting; valid keys: {', '.join(sorted(fields))}")
        value = parse_value(raw)
        if isinstance(fields[key].default, tuple) and not isinstance(value, list):
            value = [parse_value(p) for p in raw.split(",")] if "," in raw else [value] if raw.strip() else []
        out[key] = tuple(value) if isinstance(value, list) else value
    return out


def output_file(path: str, flag: str, suffixes: tuple[str, ...] = ()) -> Path:
    """The file an option names for writing, checked before any work is done: not a folder, with
    one of `suffixes` (when given), its folder creatable."""
    out = Path(path)
    if out.is_dir():
        raise LabkitError(f"{flag} {path} is a folder; name a file in it, e.g. {flag} {out / ('out' + (suffixes or ('',))[0])}")
    if suffixes and out.suffix.lower() not in suffixes:
        raise LabkitError(f"{flag} {path}: the file must end in {' or '.join(suffixes)}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise LabkitError(f"{flag} {path}: its folder cannot be made ({e.strerror}); choose another place") from None
    return out
