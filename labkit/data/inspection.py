"""`inspect(path)`: what a folder of clips (or a manifest) holds, per clip and per class, and
what is wrong with it, without loading it as a dataset."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .decode import probe
from .layout import natural_key, read_manifest, scan_folder
from .problems import DataError, Problems

CLIP_COLUMNS = ["path", "class", "group", "kind", "frames", "height", "width", "fps", "problem"]


@dataclass
class Inspection:
    """clips: one row per clip (path, class, group, kind, frames, height, width, fps, problem);
    classes: one row per class (clips, frames min/median/max, resolutions, problems);
    problems: (path, problem) for every bad input, including files that are not clips."""

    clips: pd.DataFrame
    classes: pd.DataFrame
    problems: pd.DataFrame


def inspect(path) -> Inspection:
    """Scan a `<root>/<class>/<clip>` folder, or a CSV manifest, and probe every clip."""
    problems = Problems("skip")
    path = Path(path)
    entries = read_manifest(path, problems) if path.suffix.lower() == ".csv" else scan_folder(path, problems)
    rows = []
    for e in entries:
        row = {**dict.fromkeys(CLIP_COLUMNS), "path": str(e.path), "class": e.label, "group": e.group,
               "kind": e.kind, "problem": ""}
        try:
            row.update(probe(e.path))
        except DataError as err:
            problems.add(err)
            row["problem"] = str(err)[len(err.path) + 2:]
        rows.append(row)
    clips = pd.DataFrame(rows, columns=CLIP_COLUMNS)
    clips = clips.astype({"frames": "Int64", "height": "Int64", "width": "Int64", "fps": "Float64"})  # NA if unreadable
    ok = clips[clips.problem == ""]
    classes = []
    for name in sorted(set(clips["class"]), key=natural_key):
        c, good = clips[clips["class"] == name], ok[ok["class"] == name]
        res = sorted({f"{w}x{h}" for w, h in zip(good.width, good.height)})
        classes.append({"class": name, "clips": len(good),
                        "frames_min": good.frames.min() if len(good) else None,
                        "frames_median": good.frames.median() if len(good) else None,
                        "frames_max": good.frames.max() if len(good) else None,
                        "resolutions": ", ".join(res), "problems": int((c.problem != "").sum())})
    return Inspection(clips, pd.DataFrame(classes, columns=["class", "clips", "frames_min", "frames_median",
                                                            "frames_max", "resolutions", "problems"]),
                      problems.frame())
