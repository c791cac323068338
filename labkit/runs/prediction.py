"""A trained run on new videos: `predict` (one row per clip) and `timeline` / `segments` (class
probabilities over time along a long video, and the stretches each class holds).

The run's own preprocessing is applied: the frames, frame size and crop it was trained with
(from the recipe of its training data), frames sampled uniformly over each clip or window.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from labkit import data
from labkit.data.decode import load_clip, sample_indices
from labkit.data.layout import VIDEO_EXTS, Entry, frame_files, natural_key, read_manifest, scan_folder
from labkit.data.problems import DataError, Problems
from labkit.errors import LabkitError

from .folder import load
from .record import read_config

UNITS = ("frames", "seconds")


def preprocessing(config: dict) -> dict:
    """{"frames", "size", "crop", "classes"} a run was trained with (frames None: every frame kept)."""
    trained = (config.get("data") or {}).get("train") or {}
    recipe = trained.get("recipe") or {}
    recipe = recipe.get("of", recipe)
    shape = trained.get("clip_shape") or [16, 64, 64, 3]
    frames = recipe["frames"] if "frames" in recipe else shape[0]
    return {"frames": frames, "size": recipe.get("size", shape[1]), "crop": recipe.get("crop"),
            "classes": list(trained.get("classes") or [])}


def _entries(paths, problems: Problems) -> list[Entry]:
    """What to predict on: video files and frame folders as given; a folder of videos as its
    videos; a folder of class folders or a manifest .csv as the clips it lists, with labels."""
    out = []
    for p in map(Path, paths):
        if not p.exists():
            problems.add(DataError(p, "does not exist", "check the path"))
        elif p.suffix.lower() == ".csv":
            out += read_manifest(p, problems)
        elif not p.is_dir() or frame_files(p):
            out.append(Entry(p, None))  # a video, or a frame folder
        elif videos := [f for f in sorted(p.iterdir(), key=lambda f: natural_key(f.name))
                        if f.suffix.lower() in VIDEO_EXTS]:
            out += [Entry(f, None) for f in videos]
        else:
            out += scan_folder(p, problems)  # <root>/<class>/<clip>
    return out


def _top_k(probs: np.ndarray, classes: list[str], k: int) -> dict:
    order = np.argsort(-probs)[:k]
    row = {"predicted": classes[order[0]], "probability": float(probs[order[0]])}
    for rank, c in enumerate(order, start=1):
        row[f"top{rank}"], row[f"top{rank}_probability"] = classes[c], float(probs[c])
    return row


def predict(run_dir, paths, top_k: int = 3, on_error: str = "raise", device: str = "cpu") -> pd.DataFrame:
    """The run's prediction for each clip of `paths` (videos, frame folders, a folder of
    `<class>/<clip>`, or a manifest): one row per clip with path, predicted, probability, the
    top-k classes with their probabilities, seconds (the clip's length; None for frame
    folders), and label / correct where the input names the true class. on_error="skip" leaves
    unreadable clips out; they are listed in `predict(...).attrs["skipped"]`.
    """
    config, model = read_config(run_dir), load(run_dir, device=device)
    prep, problems = preprocessing(config), Problems(on_error)
    classes = prep["classes"] or [str(i) for i in range(model.config.num_classes)]
    rows = []
    for e in _entries(paths if isinstance(paths, (list, tuple)) else [paths], problems):
        try:
            clip, info = load_clip(e.path, prep["frames"], prep["size"], prep["crop"])
        except DataError as err:
            problems.add(err)
            continue
        row = {"path": str(e.path), **_top_k(model.predict_proba(clip)[0], classes, min(top_k, len(classes))),
               "seconds": info["seconds"]}
        if e.label is not None:
            row.update(label=e.label, correct=row["predicted"] == e.label)
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs["skipped"] = problems.frame()
    return table


def timeline(run_dir, video, window: float, stride: float, unit: str = "frames", batch: int = 32,
             device: str = "cpu") -> pd.DataFrame:
    """Class probabilities over time along one (long) video, streamed in constant memory.

    window / stride: the length of each window and the step between windows, in `unit`
    ("frames", or "seconds" converted with the video's frame rate). Each window is sampled to the
    run's frames, as its training clips were. One row per window: path, start, end (in `unit`),
    predicted, probability, then one column per class.
    """
    if unit not in UNITS:
        raise LabkitError(f"unit={unit!r}; choose one of {list(UNITS)}")
    config, model = read_config(run_dir), load(run_dir, device=device)
    prep = preprocessing(config)
    classes = prep["classes"] or [str(i) for i in range(model.config.num_classes)]
    fps = data.frame_rate(video) if unit == "seconds" else None
    if unit == "seconds" and not fps:
        raise LabkitError(f"{video}: its frame rate is unknown, so windows cannot be given in seconds; use unit='frames'")
    n_window, n_stride = (max(1, round(v * fps)) if fps else int(v) for v in (window, stride))
    windows = data.sliding_windows(data.stream_frames(video, prep["size"], prep["crop"]), n_window, n_stride)
    rows, pending = [], []
    for w in windows:
        pending.append(w)
        if len(pending) == batch:
            rows += _window_rows(model, pending, prep["frames"], classes, unit)
            pending = []
    rows += _window_rows(model, pending, prep["frames"], classes, unit) if pending else []
    return pd.DataFrame(rows).assign(path=str(video))[["path", "start", "end", "predicted", "probability", *classes]] \
        if rows else pd.DataFrame(columns=["path", "start", "end", "predicted", "probability", *classes])


def _window_rows(model, windows: list, frames: int | None, classes: list[str], unit: str) -> list[dict]:
    """Predict a batch of windows (each sampled to `frames` frames) -> one row each."""
    clips = [w.frames if frames is None else w.frames[sample_indices(len(w.frames), frames)] for w in windows]
    lengths = {len(c) for c in clips}
    probs = model.predict_proba(np.stack(clips)) if len(lengths) == 1 else \
        np.concatenate([model.predict_proba(c) for c in clips])
    out = []
    for w, p in zip(windows, probs):
        start, end = (w.start, w.end) if unit == "seconds" else (w.first, w.last + 1)
        out.append({"start": start, "end": end, "predicted": classes[int(p.argmax())], "probability": float(p.max()),
                    **dict(zip(classes, map(float, p)))})
    return out


def segments(timeline_table: pd.DataFrame, smooth: int = 3, min_windows: int = 1) -> pd.DataFrame:
    """The stretches of a timeline where one class leads: the class probabilities are smoothed
    with a centred moving average over `smooth` windows, the leading class taken per window,
    and consecutive windows with the same leader joined (stretches of fewer than `min_windows`
    windows are merged into their neighbours). Columns: label, start, end, windows, probability
    (its mean smoothed probability), text ("waving 0:03–0:11" in seconds; frames otherwise)."""
    meta = {"path", "start", "end", "predicted", "probability"}
    classes = [c for c in timeline_table.columns if c not in meta]
    if timeline_table.empty:
        return pd.DataFrame(columns=["label", "start", "end", "windows", "probability", "text"])
    probs = timeline_table[classes].rolling(max(1, smooth), center=True, min_periods=1).mean()
    leader = probs.idxmax(axis=1).to_numpy()
    leader = _absorb_short(leader, min_windows)
    runs = np.flatnonzero(np.r_[True, leader[1:] != leader[:-1]])
    rows = []
    for a, b in zip(runs, np.r_[runs[1:], len(leader)]):
        label = leader[a]
        rows.append({"label": label, "start": timeline_table["start"].iloc[a], "end": timeline_table["end"].iloc[b - 1],
                     "windows": int(b - a), "probability": float(probs[label].iloc[a:b].mean())})
    out = pd.DataFrame(rows)
    out["text"] = [f"{r.label} {_clock(r.start)}–{_clock(r.end)}" for r in out.itertuples()]
    return out


def _absorb_short(leader: np.ndarray, min_windows: int) -> np.ndarray:
    """Runs shorter than `min_windows` take the label of the run before them (or after, at the start)."""
    leader = leader.copy()
    if min_windows <= 1:
        return leader
    runs = np.flatnonzero(np.r_[True, leader[1:] != leader[:-1]])
    for a, b in zip(runs, np.r_[runs[1:], len(leader)]):
        if b - a < min_windows:
            leader[a:b] = leader[a - 1] if a > 0 else leader[b % len(leader)]
    return leader


def _clock(value) -> str:
    """Seconds as m:ss (whole numbers of frames stay as they are)."""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    m, s = divmod(int(round(value)), 60)
    return f"{m}:{s:02d}"
