"""Run folders as models and as one table (the format itself: `record.py`). Damaged folders are
reported in the table, never fatal."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd

from labkit.errors import LabkitError, MissingPathError, RunError
from labkit.models import DCRN, DCRNConfig

from .record import BEST, CONFIG, HISTORY, LAST, METRICS, RUN_FILES, final_metrics, load_checkpoint


def _is_run(path: Path) -> bool:
    return path.is_dir() and any((path / f).exists() for f in RUN_FILES)


def load(run_dir, which: str = "best", device="cpu") -> DCRN:
    """The run's model with its best weights (which="best") or its latest ones ("last"), in eval mode."""
    if which not in ("best", "last"):
        raise LabkitError(f"which={which!r}; choose 'best' or 'last'")
    path = Path(run_dir) / (BEST if which == "best" else LAST)
    ckpt = load_checkpoint(path, map_location=device)
    return model_from_checkpoint(ckpt, path).to(device).eval()


def model_from_checkpoint(ckpt: dict, path: Path) -> DCRN:
    """The DCRN a checkpoint describes (its config) with its weights; errors name the file."""
    if not isinstance(ckpt.get("model"), dict) or not isinstance(ckpt.get("config"), dict):
        raise RunError(f"{path}: not a labkit checkpoint (no model weights and config in it); pass a best.pt or "
                       f"last.pt written by train.fit")
    try:
        model = DCRN(DCRNConfig.from_dict(ckpt["config"]["model"]))
    except (KeyError, TypeError, ValueError) as e:
        raise RunError(f"{path}: its model config cannot be built ({e}); the checkpoint was edited or written by "
                       f"another version of labkit") from None
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError as e:
        first = str(e).splitlines()[1].strip() if len(str(e).splitlines()) > 1 else str(e)
        raise RunError(f"{path}: its weights do not fit its own model config ({first}); the checkpoint is "
                       f"damaged or mixes two runs. Fix: use the run's other checkpoint or train again") from None
    return model


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
