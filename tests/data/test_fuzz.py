"""Fuzzing the readers: seeded byte flips and truncations of small mp4, mkv (with audio), webm
(variable frame rate) files and PNG frame folders, each read as `data.folder` reads it
(`read_clip`) and as `data.inspect` does (`probe`), then all of them through `data.folder(...,
on_error="skip")` and `data.inspect`. Every outcome must be a clip or a LabkitError naming the
file: any other exception fails the test, and so does a read that hangs.

`make test` tries a few hundred files (seconds); for thousands (`make fuzz`):

    LABKIT_FUZZ_FILES=3000 .venv/bin/python -m pytest tests/data/test_fuzz.py -q
"""
from __future__ import annotations

import os
import random
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from labkit import data
from labkit.data.decode import probe, read_clip
from labkit.errors import LabkitError

FILES = int(os.environ.get("LABKIT_FUZZ_FILES", "400"))  # mutated files in all, shared out over the kinds
SEED = int(os.environ.get("LABKIT_FUZZ_SEED", "0"))
TIMEOUT_S = 30.0  # per read: far above the milliseconds one takes, so only a hang reaches it
FRAMES, SIZE = 12, 16


def _originals(media, where: Path) -> dict[str, Path]:
    """One good clip of each kind, written with PyAV/Pillow: kind -> file or frame folder."""
    clip = media.ramp_clip(FRAMES, SIZE)
    return {
        "mp4": media.encode(where / "good.mp4", clip),
        "mkv": media.encode(where / "good.mkv", clip, "ffv1", audio_s=1.0),
        "webm": media.encode(where / "good.webm", clip, "libvpx-vp9",
                             pts_ms=np.cumsum([0] + [40 if t % 3 else 250 for t in range(FRAMES - 1)])),
        "png": media.frame_folder(where / "good_png", clip[:6]),
    }


def _mutate(blob: bytes, rng: random.Random) -> tuple[bytes, str]:
    """A damaged copy of blob and what was done: 1-4 flipped bytes (half of them in the first
    512 bytes, where the headers are) or a cut at a random length."""
    if rng.random() < 0.3:
        cut = rng.randrange(len(blob))
        return blob[:cut], f"cut at {cut}"
    out = bytearray(blob)
    places = [rng.randrange(min(512, len(out)) if rng.random() < 0.5 else len(out)) for _ in range(rng.randint(1, 4))]
    for i in places:
        out[i] ^= rng.randrange(1, 256)
    return bytes(out), f"flipped bytes {places}"


def _damaged(kind: str, original: Path, target: Path, rng: random.Random) -> str:
    """Write a damaged copy of `original` at `target` (a frame folder: one frame damaged)."""
    if kind != "png":
        blob, how = _mutate(original.read_bytes(), rng)
        target.write_bytes(blob)
        return how
    shutil.copytree(original, target)
    frame = rng.choice(sorted(target.iterdir()))
    blob, how = _mutate(frame.read_bytes(), rng)
    frame.write_bytes(blob)
    return f"{frame.name}: {how}"


def _within(seconds: float, fn, what: str) -> dict:
    """Run fn() in a daemon thread -> {"value": ...} or {"error": exception}; fails the test,
    naming `what`, if it is still running after `seconds` (a hang; the thread is left behind)."""
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - judged by the caller
            box["error"] = e

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"hang: {what} still running after {seconds:.0f} s")
    return box


def _judge(box: dict, target: Path, what: str, wrong: list[str]) -> str:
    """"load" or "clear error"; anything but a LabkitError naming `target` (or a frame in it) and
    the fix goes to `wrong`."""
    error = box.get("error")
    if error is None:
        return "load"
    if not isinstance(error, LabkitError) or str(target) not in str(error) or "Fix:" not in str(error):
        wrong.append(f"{what}: {type(error).__name__}: {error}")
    return "clear error"


def _entries(paths, root: Path) -> set[Path]:
    """The clips (root/<kind>/<name>) that paths lie in or are; a class folder alone is none."""
    parts = [Path(p).relative_to(root).parts for p in paths]
    return {root.joinpath(*p[:2]) for p in parts if len(p) >= 2}


def test_damaged_media_give_a_clip_or_a_clear_error(media, tmp_path, capsys):
    rng = random.Random(SEED)
    originals = _originals(media, tmp_path / "originals")
    root = tmp_path / "fuzzed"
    failed = {"read": set(), "probe": set()}
    wrong, start = [], time.perf_counter()
    for i in range(FILES):
        kind = list(originals)[i % len(originals)]
        target = root / kind / (f"{i:05d}" + ("" if kind == "png" else f".{kind}"))
        target.parent.mkdir(parents=True, exist_ok=True)
        what = f"{target.name} (seed {SEED}, {_damaged(kind, originals[kind], target, rng)})"
        for name, read in (("read", lambda: read_clip(target, 8, SIZE)), ("probe", lambda: probe(target))):
            if _judge(_within(TIMEOUT_S, read, f"{name} {what}"), target, f"{name} {what}", wrong) == "clear error":
                failed[name].add(target)
    ds = _within(TIMEOUT_S * 10, lambda: data.folder(root, frames=8, size=SIZE, on_error="skip", cache_dir=False,
                                                     progress=False), "data.folder")
    report = _within(TIMEOUT_S * 10, lambda: data.inspect(root), "data.inspect")
    seconds = time.perf_counter() - start
    with capsys.disabled():  # the figures, shown even when pytest captures output
        print(f"\nfuzz (seed {SEED}): {FILES} damaged files tried, {len(failed['read'])} clear errors, "
              f"{FILES - len(failed['read'])} loads ({len(failed['probe'])} rejected by inspect), {seconds:.1f} s")
    assert not wrong, f"{len(wrong)} reads raised something other than a clear LabkitError:\n" + "\n".join(wrong[:20])
    for box in (ds, report):
        assert "error" not in box, f"{type(box['error']).__name__}: {box['error']}"
    assert len(ds["value"]) == FILES - len(failed["read"]) and _entries(ds["value"].report.path, root) == failed["read"]
    assert _entries(report["value"].problems.path, root) == failed["probe"]
