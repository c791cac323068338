"""Training: `fit()` (events, callbacks, checkpoints, AMP/devices, DDP under torchrun) and `evaluate()`.

    result = train.fit(model, tr, va, epochs=10, batch_size=32, run_dir="runs/demo")
    result.history            # DataFrame: epoch, loss, accuracy, val_loss, val_accuracy, grad_norm, lr, ...
    metrics = train.evaluate(result.model, te)   # top1, top5, mean_class_accuracy, confusion, ...
"""
from .callbacks import Callback, EarlyStopping, ProgressBar, StopOnEvent, TimeLimit
from .checkpoint import RUN_FILES, Checkpoint, HistoryLogger, load_checkpoint
from .devices import resolve_device, resolve_precision
from .engine import fit
from .evaluate import EvalResult, evaluate
from .optim import OPTIMIZERS, SCHEDULERS
from .state import HISTORY_COLUMNS, FitResult, TrainState

__all__ = ["fit", "evaluate", "FitResult", "EvalResult", "TrainState", "Callback", "EarlyStopping",
           "ProgressBar", "StopOnEvent", "TimeLimit", "Checkpoint", "HistoryLogger", "load_checkpoint",
           "resolve_device", "resolve_precision", "RUN_FILES", "HISTORY_COLUMNS", "OPTIMIZERS", "SCHEDULERS"]
