"""Training: `TrainConfig`, `fit()` (events, callbacks, checkpoints, AMP/devices, DDP under torchrun),
`sweep()` (one run per grid point, resumable), `evaluate()` and `pretrain()` (self-supervised, on
clips without labels).

    cfg = train.TrainConfig(epochs=10, batch_size=32, lr=1e-3)
    result = train.fit(model, tr, va, cfg, run_dir="runs/demo")   # or keyword overrides: fit(model, tr, va, epochs=5)
    result.history            # DataFrame: epoch, loss, accuracy, val_loss, val_accuracy, grad_norm, lr, ...
    table = train.sweep("default", tr, va, grid={"cell": ["rnn", "gru"], "seed": [0, 1, 2]}, root="runs/s")
    metrics = train.evaluate(result.model, te)   # top1, top5, mean_class_accuracy, confusion, ...
    train.pretrain(model, unlabelled, task="order_verification", epochs=6, run_dir="runs/pre")  # then fit on few labels
    with train.one_bar("my experiment"): ...   # every sweep / pretrain inside ticks one bar with an ETA
"""
from labkit.runs.record import HISTORY_COLUMNS

from .callbacks import Callback, EarlyStopping, ProgressBar, StopAtTarget, StopOnEvent, TimeLimit
from .checkpoint import Checkpoint, HistoryLogger
from .config import PRECISIONS, TrainConfig
from .devices import resolve_device, resolve_precision
from .engine import fit
from .evaluation import EvalResult, evaluate
from .optim import OPTIMIZERS, SCHEDULERS
from .pretraining import PRETEXT_TASKS, pretext_dataset, pretrain
from .progress import one_bar
from .state import FitResult, TrainingInterrupted, TrainState
from .sweeps import sweep

__all__ = ["TrainConfig", "fit", "sweep", "evaluate", "FitResult", "EvalResult", "TrainState", "TrainingInterrupted", "Callback",
           "EarlyStopping", "ProgressBar", "StopAtTarget", "StopOnEvent", "TimeLimit", "Checkpoint", "HistoryLogger",
           "resolve_device", "resolve_precision", "HISTORY_COLUMNS", "OPTIMIZERS", "SCHEDULERS", "PRECISIONS",
           "pretrain", "pretext_dataset", "PRETEXT_TASKS", "one_bar"]
