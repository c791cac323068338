"""Run folders as models and as one table (the format itself: `record.py`). Damaged folders are
reported in the table, never fatal."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd

from labkit.errors import LabkitError, MissingPathError
from labkit.models import DCRN, DCRNConfig

from .record import BEST, CONFIG, HISTORY, LAST, METRICS, RUN_FILES, final_metrics, load_checkpoint


def _is_run(path: Path) -> bool:
    return path.is_dir() and any((path / f).exists() for f in RUN_FILES)


def load(run_dir, which: str = "best", device="cpu") -> DCRN:
    """The run's model with its best weights (which="best") or its latest ones ("last"), in eval mode."""
    if which not in ("best", "last"):
        raise LabkitError(f"which={which!r}; choose 'best' or 'last'")
    ckpt = load_checkpoint(Path(run_dir) / (BEST if which == "best" else LAST), map_location=device)
    model = DCRN(DCRNConfig.from_dict(ckpt["config"]["model"]))
    model.load_state_dict(ckpt["model"])
    return model.to(device).eval()


def _flatten(prefix: str, d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(f"{prefix}{k}.", v))
        else:
            out[f"{prefix}{k}"] = tuple(v) if isinstance(v, list) else v
    return out


def _read_json(path: Path, problems: list[str]) -> dict:
    if not path.is_file():
        problems.append(f"missing {path.name}")
        return {}
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        problems.append(f"{path.name} unreadable ({type(e).__name__}: {e})")
        return {}
    if not isinstance(value, dict):
        problems.append(f"{path.name} is not a JSON object")
        return {}
    return value


def _row(run: Path) -> dict:
    """One run's table row; anything wrong goes into `problems` instead of raising."""
    problems: list[str] = []
    config = _read_json(run / CONFIG, problems)
    metrics = _read_json(run / METRICS, problems)
    if not metrics and (run / HISTORY).is_file():  # unfinished (or crashed) run: use the last epoch
        try:
            rows = pd.read_csv(run / HISTORY).to_dict("records")
            metrics = final_metrics(rows) if rows else {}
        except (OSError, ValueError, KeyError, pd.errors.ParserError) as e:
            problems.append(f"{HISTORY} unreadable ({type(e).__name__})")
    for name in (BEST, LAST):
        if not (run / name).is_file():
            problems.append(f"missing {name}")
    row = {"run": run.name, "path": str(run)}
    row.update(_flatten("", {k: v for k, v in config.items() if isinstance(v, dict)}))
    row.update(metrics)
    row["problems"] = "; ".join(problems)
    return row


def table(root) -> pd.DataFrame:
    """Every run folder directly under `root` (or `root` itself): one row per run.

    Columns: run, path, the config flattened (model.*, train.*, data.*), the final metrics
    (epochs, best_epoch, best_val_accuracy, final_*, train_seconds, stopped) and `problems` ("" for
    a healthy run; otherwise what is missing or unreadable — also issued as a warning).
    """
    root = Path(root)
    if not root.is_dir():
        raise MissingPathError(f"runs root {root} is not a folder; pass the folder that holds your run folders")
    runs = [root] if _is_run(root) else sorted(p for p in root.iterdir() if _is_run(p))
    rows = [_row(r) for r in runs]
    for r in rows:
        if r["problems"]:
            warnings.warn(f"run {r['path']}: {r['problems']}", stacklevel=2)
    return pd.DataFrame(rows, columns=None if rows else ["run", "path", "problems"])
