"""Finding clips on disk: `<root>/<class>/<clip>.<video>` or `<root>/<class>/<clip>/<frames>.<image>`,
or a CSV manifest `path,label[,group]`; natural sort order; groups from a file-name regex."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from labkit.errors import MissingPathError
from .problems import DataError, Problems

VIDEO_EXTS = (".mp4", ".avi", ".mov", ".mkv", ".webm")
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


@dataclass(frozen=True)
class Entry:
    """One clip on disk: a video file or a folder of frame images, its class name and group."""

    path: Path
    label: str
    group: str | None = None

    @property
    def kind(self) -> str:
        return "frames" if self.path.is_dir() else "video"


def natural_key(name: str) -> list:
    """Sort key that orders embedded numbers by value: frame2 < frame10."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", str(name))]


def _visible(path: Path) -> list[Path]:
    return sorted((p for p in path.iterdir() if not p.name.startswith(".")), key=lambda p: natural_key(p.name))


def frame_files(folder: Path) -> list[Path]:
    """The images of a frame folder in natural order (other files are ignored)."""
    return [p for p in _visible(folder) if p.suffix.lower() in IMAGE_EXTS]


def scan_folder(root, problems: Problems) -> list[Entry]:
    """Every clip under `root/<class>/`; empty class folders and stray files go to `problems`."""
    root = Path(root)
    if not root.exists():
        raise MissingPathError(f"{root}: no such folder. Fix: check the path (it should hold one folder per class)")
    if not root.is_dir():
        raise DataError(root, "is a file, not a folder of class folders",
                        "pass the folder, or data.manifest(...) for a CSV list of clips")
    class_dirs = [p for p in _visible(root) if p.is_dir()]
    if not class_dirs:
        media = [p.name for p in _visible(root) if p.suffix.lower() in VIDEO_EXTS + IMAGE_EXTS]
        hint = f" (it holds {len(media)} media files directly)" if media else ""
        raise DataError(root, f"has no class folders{hint}",
                        "arrange clips as <root>/<class>/<clip>.mp4 or <root>/<class>/<clip>/<frame>.png")
    entries = []
    for class_dir in class_dirs:
        found = []
        for p in _visible(class_dir):
            if p.is_dir():
                if frame_files(p):
                    found.append(Entry(p, class_dir.name))
                else:
                    problems.add(DataError(p, "frame folder holds no images",
                                           f"put {'/'.join(IMAGE_EXTS)} frames in it, or remove it"))
            elif p.suffix.lower() in VIDEO_EXTS:
                found.append(Entry(p, class_dir.name))
            else:
                problems.add(DataError(p, f"is not a video ({', '.join(VIDEO_EXTS)}) or a folder of frames",
                                       "remove it or move it out of the class folder"))
        if not found:
            problems.add(DataError(class_dir, "class folder has no clips", "add clips or remove the folder"))
        entries += found
    return entries


def read_manifest(csv_path, problems: Problems) -> list[Entry]:
    """Entries from a CSV with columns path,label[,group]; paths are relative to the CSV's folder."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise MissingPathError(f"{csv_path}: no such manifest file. Fix: check the path")
    try:
        table = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise DataError(csv_path, f"is not a readable CSV ({e})",
                        "write it with a header line path,label[,group]") from None
    missing = {"path", "label"} - set(table.columns)
    if missing:
        raise DataError(csv_path, f"lacks column(s) {sorted(missing)} (has {list(table.columns)})",
                        "give it a header line path,label[,group]")
    entries = []
    for row, rec in enumerate(table.to_dict("records"), start=2):  # line numbers as an editor shows them
        path = Path(rec["path"])
        path = path if path.is_absolute() else csv_path.parent / path
        if not rec["path"] or not rec["label"]:
            problems.add(DataError(f"{csv_path}:{row}", "empty path or label",
                                   "fill in both columns or delete the line"))
        elif not path.exists():
            problems.add(DataError(path, f"listed on line {row} of {csv_path.name} does not exist",
                                   "fix the path (relative paths start at the CSV's folder) or delete the line"))
        elif not (path.is_dir() and frame_files(path)) and path.suffix.lower() not in VIDEO_EXTS:
            problems.add(DataError(path, f"is not a video ({', '.join(VIDEO_EXTS)}) or a folder of frames",
                                   f"fix line {row} of {csv_path.name}"))
        else:
            entries.append(Entry(path, rec["label"], rec.get("group") or None))
    return entries


def with_groups(entries: list[Entry], pattern: str | None, problems: Problems) -> list[Entry]:
    """Set each entry's group from a regex searched in its file name: the named group `group`,
    else the first group, else the whole match. Entries that do not match go to `problems`."""
    if pattern is None:
        return entries
    regex = re.compile(pattern)
    out = []
    for e in entries:
        m = regex.search(e.path.name)
        if m is None:
            problems.add(DataError(e.path, f"file name does not match group_pattern {pattern!r}",
                                   "rename the file or loosen the pattern"))
            continue
        group = m.group("group") if "group" in regex.groupindex else m.group(1) if regex.groups else m.group(0)
        out.append(Entry(e.path, e.label, group))
    return out
