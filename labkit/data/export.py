"""Writing clips to disk as real media with PyAV: one video file (or frame folder) per clip, in the
`<out>/<class>/<clip>.<ext>` layout that `folder()` reads, plus a `manifest.csv` (path,label,group),
and a `.labkit-dataset` marker listing every file written: `overwrite=True` deletes those alone."""
from __future__ import annotations

import json
import math
import numbers
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pandas as pd
from PIL import Image
from tqdm.auto import tqdm

from labkit.errors import LabkitError
from .dataset import ClipDataset

# format -> (codec, pixel format, codec options); png/jpg write frame folders instead
VIDEO_FORMATS = {
    "mp4": ("libx264", "yuv420p", {"crf": "12", "preset": "fast"}),
    "mov": ("libx264", "yuv420p", {"crf": "12", "preset": "fast"}),
    "mkv": ("ffv1", "yuv444p", {}),  # lossless
    "avi": ("mpeg4", "yuv420p", {}),
    "webm": ("libvpx-vp9", "yuv420p", {"crf": "15", "b": "0"}),
}
IMAGE_FORMATS = ("png", "jpg")
FORMATS = tuple(VIDEO_FORMATS) + IMAGE_FORMATS


MARKER = ".labkit-dataset"  # in <out>: every file write_dataset wrote, one JSON string a line


def check_fps(fps, arg: str = "fps") -> None:
    """LabkitError unless fps is a positive, finite number of frames per second."""
    if isinstance(fps, bool) or not isinstance(fps, numbers.Real) or not math.isfinite(fps) or fps <= 0:
        raise LabkitError(f"{arg}={fps!r}: frames per second must be a positive number, e.g. 8")


def write_video(path, clip: np.ndarray, fps: int = 8) -> Path:
    """Encode uint8 (T, H, W, 3) RGB as a video; the codec follows the extension (see VIDEO_FORMATS)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in VIDEO_FORMATS:
        raise LabkitError(f"{path}: unknown video format {fmt!r}; choose one of {list(VIDEO_FORMATS)}")
    check_fps(fps)
    codec, pix_fmt, options = VIDEO_FORMATS[fmt]
    T, H, W, _ = clip.shape
    if pix_fmt == "yuv420p" and (H % 2 or W % 2):
        raise LabkitError(f"{path}: {fmt} (4:2:0 colour) needs an even frame size, got {H}x{W}; "
                         f"use an even size or the mkv/png format")
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001), options=options)
        stream.width, stream.height, stream.pix_fmt = W, H, pix_fmt
        if codec == "mpeg4":
            stream.bit_rate = 8_000_000  # near-transparent quality at these sizes
        for frame in clip:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")))
        container.mux(stream.encode())  # flush
    return path


def frame_names(length: int, fmt: str = "png") -> list[str]:
    """The file names of a frame folder of `length` frames: frame0.png, frame1.png, ..."""
    return [f"frame{t}.{fmt}" for t in range(length)]


def write_frames(folder, clip: np.ndarray, fmt: str = "png") -> Path:
    """Write uint8 (T, H, W, 3) as folder/frame0.png, frame1.png, ... (a frame folder)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in zip(frame_names(len(clip), fmt), clip):
        Image.fromarray(frame).save(folder / name, quality=95)
    return folder


def check_out(out, overwrite: bool, arg: str = "out", flag: str = "overwrite=True") -> None:
    """LabkitError unless write_dataset may write into `out`: new or empty, or (with overwrite)
    holding the marker of an earlier write_dataset, whose files alone it will replace."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise LabkitError(f"{arg}={str(out)!r} is a file; choose a folder")
    if not out.exists() or not any(out.iterdir()):
        return
    if not overwrite:
        raise LabkitError(f"{arg}={str(out)!r} is not empty; choose a new folder or pass {flag}")
    if not (out / MARKER).is_file():
        raise LabkitError(f"{arg}={str(out)!r} is not empty and labkit did not write it (it has no {MARKER} "
                          f"file listing what labkit wrote), so {flag} deletes nothing there; choose a new "
                          f"folder, or empty this one yourself")


def _plan(ds: ClipDataset, format: str) -> pd.DataFrame:
    """The manifest to write: path (relative to out, <class>/<name>_<index>[.format]), label[, group]."""
    digits = len(str(max(len(ds) - 1, 0)))
    rows = []
    for i in range(len(ds)):
        label = ds.classes[int(ds.labels[i])]
        rel = f"{label}/{ds.name}_{int(ds.index[i]):0{digits}d}" + ("" if format in IMAGE_FORMATS else f".{format}")
        rows.append((rel, label, "" if ds.groups is None else str(ds.groups[i])))
    table = pd.DataFrame(rows, columns=["path", "label", "group"])
    return table.drop(columns="group") if ds.groups is None else table


def _listing(out: Path):
    """A function that adds relative paths to out's marker, before the files are written (so a
    write cut short still lists the file it was writing)."""
    def note(*rels: str) -> None:
        with open(out / MARKER, "a") as f:
            f.writelines(json.dumps(rel) + "\n" for rel in rels)
    return note


def _write_clips(ds: ClipDataset, out: Path, table: pd.DataFrame, format: str, fps, progress: bool) -> None:
    """Write clip i of ds at out/table.path[i] (a video, or a frame folder for png/jpg), each file
    noted in the marker first."""
    note = _listing(out)
    for i in tqdm(range(len(ds)), desc=f"writing {ds.name}", unit="clip", disable=not progress):
        clip, rel = ds[i][0], table.path[i]
        if format in IMAGE_FORMATS:
            note(*(f"{rel}/{name}" for name in frame_names(len(clip), format)))
            write_frames(out / rel, clip, format)
        else:
            note(rel)
            write_video(out / rel, clip, fps)
    note("manifest.csv")
    table.to_csv(out / "manifest.csv", index=False)


def write_dataset(ds: ClipDataset, out, format: str = "mp4", fps: int = 8, progress: bool = True,
                  overwrite: bool = False) -> pd.DataFrame:
    """Write every clip of ds to `<out>/<class>/<name>_<index>.<format>` (or a frame folder for
    png/jpg) and `<out>/manifest.csv`, for `folder(out)` or `manifest(out / "manifest.csv")`;
    returns the manifest (path relative to out, label, group).

    Every file written is listed in `<out>/.labkit-dataset`. out must be new or empty, unless
    overwrite=True and it holds that list: then the files listed there are removed first (other
    files stay), so a notebook can run the cell again. A folder without the list is never touched.
    Arguments are checked before anything is written, and a write that fails removes what it wrote.
    """
    if format not in FORMATS:
        raise LabkitError(f"format={format!r}; choose one of {list(FORMATS)}")
    check_fps(fps)
    out = Path(out)
    check_out(out, overwrite)
    remove_written(out)  # stale clips from an earlier, larger write would silently join the data
    table = _plan(ds, format)
    clash = [rel for rel in table.path if (out / rel).exists()]
    if clash:
        raise LabkitError(f"{out / clash[0]} exists and labkit did not write it; move it, or choose a new folder")
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        _write_clips(ds, out, table, format, fps, progress)
    except BaseException:  # nothing half-written stays: what this call wrote is listed, so it can go
        remove_written(out)
        if created and not any(out.iterdir()):
            out.rmdir()
        raise
    return table


def _listed(out: Path) -> list[str]:
    """The relative paths in out's marker (none without one); LabkitError if it is damaged."""
    try:
        lines = (out / MARKER).read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as e:
        raise LabkitError(f"{out / MARKER}: cannot be read ({e}), so labkit cannot tell which files it wrote; "
                          f"empty {out} yourself, or choose a new folder") from None


def _inside(out: Path, rel: str) -> Path | None:
    """out/rel if it lies inside out (no absolute path, no .., no symlinked folder leading out), else None."""
    if not isinstance(rel, str) or not rel or Path(rel).is_absolute() or ".." in Path(rel).parts:
        return None
    path = out / rel
    parent = path.parent.resolve()
    return path if parent == out or out in parent.parents else None


def remove_written(out) -> int:
    """Delete the files that earlier `write_dataset` calls listed in `<out>/.labkit-dataset`, the
    folders this leaves empty, and the list itself; nothing else (no list: nothing). Returns the count."""
    out = Path(out).resolve()
    removed = 0
    for rel in _listed(out):
        path = _inside(out, rel)
        if path is None or not (path.is_file() or path.is_symlink()):
            continue
        path.unlink()
        removed += 1
        for parent in path.parents:  # the clip's frame folder and class folder, if now empty
            if parent == out or any(parent.iterdir()):
                break
            parent.rmdir()
    (out / MARKER).unlink(missing_ok=True)
    return removed
