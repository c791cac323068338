"""Decoded-clip cache: uint8 .npy files keyed by the source's identity (absolute path, size,
mtime_ns; for a frame folder, those of every frame) and the loading parameters, so a second
load skips decoding and a changed file is decoded again. Writes are atomic (temp file + rename).

Location: `cache_dir=` argument, else $LABKIT_CACHE, else `<repo>/data/cache` (or ~/.cache/labkit
when labkit is installed outside its repository). `cache_dir=False` turns caching off.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .layout import frame_files
from .problems import os_error

VERSION = 1  # bump when decoding changes, so old cache entries are not reused


def resolve_dir(cache_dir=None) -> Path | None:
    """The cache folder to use (None: caching off)."""
    if cache_dir is False:
        return None
    if cache_dir is not None:
        return Path(cache_dir)
    if os.environ.get("LABKIT_CACHE"):
        return Path(os.environ["LABKIT_CACHE"])
    repo = Path(__file__).resolve().parents[2]
    return repo / "data" / "cache" if (repo / "pyproject.toml").exists() else Path.home() / ".cache" / "labkit"


def identity(path: Path) -> list:
    """What must stay the same for a cached decode to be valid: path, size and mtime of the file(s)."""
    files = frame_files(path) if path.is_dir() else [path]
    try:
        return [str(path.resolve())] + [[f.name, (s := f.stat()).st_size, s.st_mtime_ns] for f in files]
    except OSError as e:  # gone or unreachable since the folder was scanned
        raise os_error(e.filename or path, e) from e


def key(path: Path, **params) -> str:
    """Cache key (hex) of decoding `path` with these parameters."""
    blob = json.dumps([VERSION, identity(Path(path)), sorted(params.items())], default=str)
    return hashlib.sha1(blob.encode()).hexdigest()


def file_for(cache_dir: Path, k: str) -> Path:
    return cache_dir / k[:2] / f"{k}.npy"


def load(cache_dir: Path, k: str) -> np.ndarray | None:
    """The cached array, or None if absent or unreadable."""
    f = file_for(cache_dir, k)
    try:
        return np.load(f)
    except (OSError, ValueError):
        return None


def save(cache_dir: Path, k: str, clip: np.ndarray) -> Path:
    """Write atomically: readers see the old state or the whole new file, never half of it."""
    f = file_for(cache_dir, k)
    f.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=f.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, clip)
        os.replace(tmp, f)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return f
