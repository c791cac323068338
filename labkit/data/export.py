"""Writing clips to disk as real media with PyAV: one video file (or frame folder) per clip, in the
`<out>/<class>/<clip>.<ext>` layout that `folder()` reads, plus a `manifest.csv` (path,label,group)."""
from __future__ import annotations

import shutil
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


def write_video(path, clip: np.ndarray, fps: int = 8) -> Path:
    """Encode uint8 (T, H, W, 3) RGB as a video; the codec follows the extension (see VIDEO_FORMATS)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in VIDEO_FORMATS:
        raise LabkitError(f"{path}: unknown video format {fmt!r}; choose one of {list(VIDEO_FORMATS)}")
    codec, pix_fmt, options = VIDEO_FORMATS[fmt]
    T, H, W, _ = clip.shape
    if pix_fmt == "yuv420p" and (H % 2 or W % 2):
        raise LabkitError(f"{path}: {fmt} (4:2:0 colour) needs an even frame size, got {H}x{W}; "
                         f"use an even size or the mkv/png format")
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps, options=options)
        stream.width, stream.height, stream.pix_fmt = W, H, pix_fmt
        if codec == "mpeg4":
            stream.bit_rate = 8_000_000  # near-transparent quality at these sizes
        for frame in clip:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")))
        container.mux(stream.encode())  # flush
    return path


def write_frames(folder, clip: np.ndarray, fmt: str = "png") -> Path:
    """Write uint8 (T, H, W, 3) as folder/frame0.png, frame1.png, ... (a frame folder)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for t, frame in enumerate(clip):
        Image.fromarray(frame).save(folder / f"frame{t}.{fmt}", quality=95)
    return folder


def write_dataset(ds: ClipDataset, out, format: str = "mp4", fps: int = 8, progress: bool = True,
                  overwrite: bool = False) -> pd.DataFrame:
    """Write every clip of ds to `<out>/<class>/<name>_<index>.<format>` (or a frame folder for
    png/jpg) and `<out>/manifest.csv`, for `folder(out)` or `manifest(out / "manifest.csv")`;
    returns the manifest (path relative to out, label, group).

    out must be new or empty unless overwrite=True, which first removes the clips an earlier
    `write_dataset` listed there (other files stay), so a notebook can run the cell again.
    """
    if format not in FORMATS:
        raise LabkitError(f"format={format!r}; choose one of {list(FORMATS)}")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise LabkitError(f"out={str(out)!r} is not empty; choose a new folder or pass overwrite=True")
        remove_written(out)  # stale clips from an earlier, larger write would silently join the data
    digits = len(str(max(len(ds) - 1, 0)))
    rows = []
    for i in tqdm(range(len(ds)), desc=f"writing {ds.name}", unit="clip", disable=not progress):
        clip, label = ds[i]
        rel = Path(ds.classes[label]) / f"{ds.name}_{int(ds.index[i]):0{digits}d}"
        if format in IMAGE_FORMATS:
            write_frames(out / rel, clip, format)
        else:
            rel = rel.with_suffix(f".{format}")
            write_video(out / rel, clip, fps)
        rows.append((rel.as_posix(), ds.classes[label], "" if ds.groups is None else str(ds.groups[i])))
    table = pd.DataFrame(rows, columns=["path", "label", "group"])
    if ds.groups is None:
        table = table.drop(columns="group")
    table.to_csv(out / "manifest.csv", index=False)
    return table


def remove_written(out) -> int:
    """Delete the clips that a previous `write_dataset` listed in `<out>/manifest.csv`, the class
    folders this leaves empty, and the manifest; files it did not write stay. Returns the count."""
    out = Path(out).resolve()
    listed = out / "manifest.csv"
    if not listed.is_file():
        return 0
    removed = 0
    for rel in pd.read_csv(listed, dtype=str).get("path", []):
        path = (out / rel).resolve()
        if out not in path.parents:  # only ever inside out
            continue
        if path.is_dir():
            shutil.rmtree(path)
        elif path.is_file():
            path.unlink()
        else:
            continue
        removed += 1
        if path.parent != out and not any(path.parent.iterdir()):
            path.parent.rmdir()
    listed.unlink()
    return removed
