"""`sweep()`: one training run per point of a grid of model and training settings, into one root
folder, resumable; returns the runs table ready for `runs.summarize`.

    table = train.sweep("default", tr, va, grid={"cell": ["rnn", "lstm", "gru"], "seed": [0, 1, 2]},
                        root="runs/cells", epochs=5, lr=3e-3)
    runs.summarize(table, by="cell", metric="best_val_accuracy")
"""
from __future__ import annotations

import dataclasses
import itertools
import re
from pathlib import Path

import pandas as pd

from labkit.errors import LabkitError
from labkit import models, runs
from labkit.runs import record

from .config import TrainConfig
from .engine import describe_data, fit
from .progress import runs_bar

TRAIN_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}
USER_STOPS = ("interrupted", "stop requested")  # how fit words a stop the user asked for


def grid_points(grid) -> list[dict]:
    """Every combination of a dict of lists, in order (the last key varies fastest):
    {"cell": ["rnn", "gru"], "seed": [0, 1]} -> [{"cell": "rnn", "seed": 0}, {"cell": "rnn", "seed": 1}, ...];
    a list of dicts is taken as the points themselves (settings that go together, such as an
    optimizer and its learning rate); every point must have the same keys."""
    if isinstance(grid, (list, tuple)):
        points = [dict(p) for p in grid]
        if not points or any(set(p) != set(points[0]) for p in points):
            raise LabkitError("grid as a list must hold points (dicts) with the same keys, e.g. "
                             "[{'optimizer': 'sgd', 'lr': 0.01}, {'optimizer': 'adam', 'lr': 0.003}]")
        return points
    for key, values in grid.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__") or not len(values):
            raise LabkitError(f"grid[{key!r}] must be a non-empty list of values, e.g. {key}=[...]; got {values!r}")
    return [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]


def run_name(point: dict) -> str:
    """A folder name for one grid point: "cell=rnn,seed=0" (tuples as 8-16; unsafe characters become _)."""
    def text(v) -> str:
        return "-".join(map(str, v)) if isinstance(v, (tuple, list)) else str(v)
    name = ",".join(f"{k}={text(v)}" for k, v in point.items()) or "run"
    return re.sub(r"[^A-Za-z0-9._=,+-]", "_", name)


def _build(build, train_ds, settings: dict, seed: int):
    """The point's model: a preset by name (sized for the data), or `build(**settings, seed=seed)`."""
    if isinstance(build, str):
        size = int(train_ds[0][0].shape[1])
        return models.preset(build, num_classes=train_ds.num_classes, seed=seed, **{"img_size": size, **settings})
    return build(**settings, seed=seed)


def _finished(run_dir: Path, model, cfg: TrainConfig, train_ds) -> bool:
    """True when run_dir already holds this very run, finished; False when it holds nothing or
    a partial run of it (resumed); ValueError when it holds a different run. Only `epochs` may
    differ: a run asked for more epochs than it has is continued."""
    if not (run_dir / record.CONFIG).is_file():
        return False
    saved = record.read_config(run_dir)
    mine = {"model": model.config.to_dict(), "train": {**cfg.to_dict(), "epochs": None},
            "data": describe_data(train_ds)}
    theirs = {"model": saved.get("model"), "train": {**(saved.get("train") or {}), "epochs": None},
              "data": (saved.get("data") or {}).get("train")}
    mine, theirs = record.json_ready(mine), record.json_ready(theirs)
    diff = [f"{part}.{k}" for part in mine for k in (mine[part] or {})
            if (theirs[part] or {}).get(k) != mine[part][k]]
    if diff:
        raise LabkitError(f"{run_dir} holds a run with other settings ({', '.join(diff[:5])}); "
                         f"sweep into a new root, or delete that folder to train it again")
    if not (run_dir / record.METRICS).is_file():
        return False
    metrics = record.read_metrics(run_dir)
    stopped = metrics["stopped"] or ""
    # a run a callback ended (a target reached, early stopping, a diverged loss) is done; one the
    # user stopped or interrupted is not: it goes on
    return metrics["epochs"] >= cfg.epochs or bool(stopped) and not stopped.startswith(USER_STOPS)


def sweep(build, train_ds, val_ds, grid, root, *, config: TrainConfig | None = None, callbacks=(),
          progress: bool = True, **fit_overrides) -> pd.DataFrame:
    """Train one run per point of `grid` into `root/<run_name(point)>` and return their runs table.

    build: a preset name ("default": sized for train_ds) or a function `build(**settings, seed=s)`
    -> DCRN, where settings are the point's keys that are not TrainConfig fields. grid: a dict of
    lists over model and training settings, `seed` included (it seeds the model's initial weights
    and the training), e.g. {"cell": ["rnn", "gru"], "lr": [1e-3, 3e-3], "seed": [0, 1, 2]} for
    every combination, or a list of points (dicts) for settings that go together.
    config / **fit_overrides: the training settings shared by every run; callbacks go to every fit.
    A point whose folder already holds the finished run is skipped, a partial one is resumed, so
    re-running a sweep (after an interruption, or with more seeds) trains only what is missing.
    One progress bar counts the runs (inside `train.one_bar`, that one). Returns `runs.table` of the grid's runs, in grid order,
    with one extra column per grid key holding the point's value (e.g. "cell", "seed").
    """
    base = (config or TrainConfig()).replace(**fit_overrides)
    root = Path(root)
    points = grid_points(grid)
    bar, owned = runs_bar(len(points), f"sweep {root.name}", progress)
    for point in points:
        settings = {k: v for k, v in point.items() if k not in TRAIN_FIELDS}
        cfg = base.replace(**{k: v for k, v in point.items() if k in TRAIN_FIELDS}).validate()
        run_dir = root / run_name(point)
        bar.set_postfix_str(run_dir.name)
        model = _build(build, train_ds, settings, cfg.seed)
        if not _finished(run_dir, model, cfg, train_ds):
            resume = run_dir if (run_dir / record.LAST).is_file() else None
            fit(model, train_ds, val_ds, cfg, callbacks=callbacks, run_dir=run_dir, resume=resume, progress=False)
        bar.update(1)
    if owned:
        bar.close()
    table = runs.table(root).set_index("run").loc[[run_name(p) for p in points]].reset_index()
    for key in points[0]:
        table[key] = [p[key] for p in points]
    return table
