"""Continuing a run: which settings it continues with, what changed (recorded, never hidden), the
data it must continue on, and a learning-rate schedule stretched to a longer run.

A resumed run keeps the settings in its config.json. Settings given again with the same values
change nothing; different ones (a new lr, say) are applied and listed in config.json under
`changes` with the epoch they start at; `epochs` is what resuming usually changes (to go on
longer). The command line asks for `--override` before it changes anything but epochs.
"""
from __future__ import annotations

import warnings
from pathlib import Path

from labkit.errors import RunError
from labkit.runs import record

from .config import TrainConfig


def resumed_config(run_dir: Path, config: TrainConfig | None, overrides: dict) -> tuple[TrainConfig, list[dict]]:
    """(the config to continue `run_dir` with, its changes from the run's saved one).

    config None: the run's own settings, with `overrides` applied; a config: that config, with
    `overrides`. Each change is {"setting", "from", "to"}; epochs is not a change.
    """
    saved = dict(record.read_config(run_dir).get("train") or {})
    if isinstance(saved.get("augment"), str) and config is None and "augment" not in overrides:
        raise RunError(f"{run_dir} was trained with a custom augmentation function ({saved['augment']}), which a "
                       f"run folder cannot hold; pass it again: fit(..., augment=fn, resume=...)")
    if isinstance(saved.get("augment"), str):
        saved.pop("augment")
    base = config if config is not None else TrainConfig.from_dict(saved)
    cfg = base.replace(**overrides).validate()
    now = cfg.to_dict()
    changes = [{"setting": k, "from": saved[k], "to": now[k]} for k in now
               if k != "epochs" and k in saved and record.json_ready(saved[k]) != record.json_ready(now[k])]
    return cfg, changes


def check_same_data(run_dir: Path, described: dict | None) -> None:
    """Refuse to continue a run on other training data than it started with (both recipes known)."""
    saved = ((record.read_config(run_dir).get("data") or {}).get("train") or {}).get("recipe")
    mine = (described or {}).get("recipe")
    if saved is not None and mine is not None and record.json_ready(saved) != record.json_ready(mine):
        raise RunError(f"{run_dir} was trained on other data than this training set (their recipes differ); "
                       f"resume on the same data, or start a new run from its weights "
                       f"(runs.load({str(run_dir)!r}) then fit into a new run_dir)")


def fast_forward(scheduler, optimizer, lr: float, steps: int) -> None:
    """Put a freshly built schedule at step `steps` of the (longer) run it was built for: the lr
    curve of the longer run continues from where the shorter one stopped, instead of restarting
    or crashing at the old schedule's last step."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    with warnings.catch_warnings():  # stepping the schedule without optimizer steps is the point here
        warnings.simplefilter("ignore")
        for _ in range(steps):
            scheduler.step()
