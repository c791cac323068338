"""Finding clips on disk: `<root>/<class>/<clip>.<video>` or `<root>/<class>/<clip>/<frames>.<image>`,
or a CSV manifest `path,label[,group]`; natural sort order; groups from a file-name regex."""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from labkit.errors import MissingPathError
from .problems import DataError, Problems, os_error

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


# what operating systems drop into folders; dot files (.DS_Store, ._* AppleDouble) are hidden anyway
CLUTTER = {"thumbs.db", "ehthumbs.db", "desktop.ini", "__macosx", "$recycle.bin", "system volume information"}


def _visible(path: Path) -> list[Path]:
    """The entries of a folder in natural order, without hidden files and OS clutter; DataError
    naming the folder if it cannot be listed or looked into (no read or no execute permission)."""
    try:
        found = [p for p in path.iterdir() if not p.name.startswith(".") and p.name.lower() not in CLUTTER]
        if found:
            found[0].stat()  # listing needs read permission, looking at an entry needs execute: check both
    except OSError as e:
        raise os_error(path, e) from e
    return sorted(found, key=lambda p: natural_key(p.name))


def frame_files(folder: Path) -> list[Path]:
    """The images of a frame folder in natural order (other files are ignored)."""
    return [p for p in _visible(folder) if p.suffix.lower() in IMAGE_EXTS]


def _class_dirs(root: Path, problems: Problems) -> list[Path]:
    """The class folders under `root`; a media file lying directly under it (no class) is a problem."""
    items = _visible(root)
    class_dirs = [p for p in items if p.is_dir()]
    media = [p for p in items if not p.is_dir() and p.suffix.lower() in VIDEO_EXTS + IMAGE_EXTS]
    if not class_dirs:
        hint = f" (it holds {len(media)} media files directly)" if media else ""
        raise DataError(root, f"has no class folders{hint}",
                        "arrange clips as <root>/<class>/<clip>.mp4 or <root>/<class>/<clip>/<frame>.png")
    for p in media:
        problems.add(DataError(p, "lies directly under the root, outside any class folder, so it has no label",
                               "move it into <root>/<class>/, or remove it"))
    return class_dirs


def _class_clips(class_dir: Path, problems: Problems) -> list[Entry]:
    """The clips of one class folder; unreadable, empty or non-media entries go to `problems`."""
    found = []
    for p in _visible(class_dir):
        try:
            if p.is_dir() and not frame_files(p):
                raise DataError(p, "frame folder holds no images",
                                f"put {'/'.join(IMAGE_EXTS)} frames in it, or remove it")
            if not p.is_dir() and p.suffix.lower() not in VIDEO_EXTS:
                raise DataError(p, f"is not a video ({', '.join(VIDEO_EXTS)}) or a folder of frames",
                                "remove it or move it out of the class folder")
            found.append(Entry(p, class_dir.name))
        except DataError as err:
            problems.add(err)
    if not found:
        problems.add(DataError(class_dir, "class folder has no clips", "add clips or remove the folder"))
    return found


def scan_folder(root, problems: Problems) -> list[Entry]:
    """Every clip under `root/<class>/`; empty or unreadable class folders and stray files go to `problems`."""
    root = Path(root)
    if not root.exists():
        raise MissingPathError(f"{root}: no such folder. Fix: check the path (it should hold one folder per class)")
    if not root.is_dir():
        raise DataError(root, "is a file, not a folder of class folders",
                        "pass the folder, or data.manifest(...) for a CSV list of clips")
    entries = []
    for class_dir in _class_dirs(root, problems):
        try:
            entries += _class_clips(class_dir, problems)
        except DataError as err:  # the class folder itself cannot be listed
            problems.add(err)
    return entries


def _read_table(csv_path: Path) -> pd.DataFrame:
    """The manifest as strings, with its path and label columns checked; DataError naming the CSV."""
    try:
        table = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    except OSError as e:
        raise os_error(csv_path, e) from e
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise DataError(csv_path, f"is not a readable CSV ({e})",
                        "write it with a header line path,label[,group]") from None
    missing = {"path", "label"} - set(table.columns)
    if missing:
        raise DataError(csv_path, f"lacks column(s) {sorted(missing)} (has {list(table.columns)})",
                        "give it a header line path,label[,group]")
    return table


def _strip_cells(table: pd.DataFrame, csv_path: Path) -> pd.DataFrame:
    """Labels and groups without surrounding spaces ("up " and " up" are one class), with a
    warning naming the lines changed."""
    columns = [c for c in ("label", "group") if c in table.columns]
    changed = [f"{table[c][i]!r} (line {i + 2})" for c in columns for i in range(len(table))
               if table[c][i] != table[c][i].strip()]
    if changed:
        warnings.warn(f"{csv_path}: spaces around labels/groups were removed, so they count as one: "
                      f"{', '.join(changed[:5])}{' ...' if len(changed) > 5 else ''}", stacklevel=4)
    return table.assign(**{c: table[c].str.strip() for c in columns})


def _manifest_row(csv_path: Path, row: int, rec: dict) -> Entry:
    """The Entry of one manifest line (`row` as an editor numbers it); DataError if it is unusable."""
    path = Path(rec["path"])
    path = path if path.is_absolute() else csv_path.parent / path
    if not rec["path"] or not rec["label"]:
        raise DataError(f"{csv_path}:{row}", "empty path or label", "fill in both columns or delete the line")
    if not path.exists():
        raise DataError(path, f"listed on line {row} of {csv_path.name} does not exist",
                        "fix the path (relative paths start at the CSV's folder) or delete the line")
    if not (path.is_dir() and frame_files(path)) and path.suffix.lower() not in VIDEO_EXTS:
        raise DataError(path, f"is not a video ({', '.join(VIDEO_EXTS)}) or a folder of frames",
                        f"fix line {row} of {csv_path.name}")
    return Entry(path, rec["label"], rec.get("group") or None)


def _one_row_per_clip(rows: list[tuple[int, Entry]], csv_name: str, problems: Problems) -> list[Entry]:
    """Entries with each clip once: a clip listed twice is a problem (it could land in both train
    and validation; the first line is kept), a clip under two labels too (no line is kept)."""
    lines: dict[Path, list[tuple[int, Entry]]] = {}
    for row, e in rows:
        lines.setdefault(e.path.resolve(), []).append((row, e))
    entries = []
    for listed in lines.values():
        path, labels = listed[0][1].path, {e.label for _, e in listed}
        if len(labels) > 1:
            where = " and ".join(f"{e.label!r} on line {row}" for row, e in listed)
            problems.add(DataError(path, f"is listed under {len(labels)} labels in {csv_name}: {where}",
                                   "keep the line with the right label and delete the other(s)"))
            continue
        if len(listed) > 1:
            problems.add(DataError(path, f"is listed {len(listed)} times in {csv_name} (lines "
                                         f"{', '.join(str(row) for row, _ in listed)}); it could land in both "
                                         "train and validation", "delete the extra lines"))
        entries.append(listed[0][1])
    return entries


def read_manifest(csv_path, problems: Problems) -> list[Entry]:
    """Entries from a CSV with columns path,label[,group]; paths are relative to the CSV's folder.
    Labels and groups are stripped of spaces; each clip is listed once, under one label."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise MissingPathError(f"{csv_path}: no such manifest file. Fix: check the path")
    table = _strip_cells(_read_table(csv_path), csv_path)
    rows = []
    for row, rec in enumerate(table.to_dict("records"), start=2):  # line numbers as an editor shows them
        try:
            rows.append((row, _manifest_row(csv_path, row, rec)))
        except DataError as err:
            problems.add(err)
        except OSError as e:  # a folder on the way that cannot be looked into
            problems.add(os_error(e.filename or rec["path"], e))
    return _one_row_per_clip(rows, csv_path.name, problems)


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
