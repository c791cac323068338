"""Lesson 5: optimizers and batch size. Plain gradient descent, momentum, Adam and RMSprop, each
at a learning rate usual for it, with bands over seeds; then the batch size, per epoch and per
second.

Settings: `recall` at span 3 (8 frames of 16 x 16, 1,000 clips, 80/20: a task every optimizer
can start on at once, so the curves show how fast each one learns), the `default` preset, 5
epochs; optimizers at batch 16: SGD without momentum (plain mini-batch gradient
descent) lr 0.1, SGD with momentum 0.9 lr 0.01, Adam 3e-3, RMSprop 1e-3; batch sizes 8, 32 and
128 with Adam 3e-3; 3 seeds.
"""
from __future__ import annotations

import time

import pandas as pd

from labkit import data, runs, train

from .claims import above, close, gap
from .result import LessonResult, lessons_root

SEEDS = (0, 1, 2)
DATA = dict(frames=8, size=16, n=1000, span=3)
EPOCHS = 5
OPTIMIZERS = {"gradient descent": dict(optimizer="sgd", momentum=0.0, lr=0.1),
              "momentum": dict(optimizer="sgd", momentum=0.9, lr=0.01),
              "adam": dict(optimizer="adam", momentum=None, lr=3e-3),
              "rmsprop": dict(optimizer="rmsprop", momentum=None, lr=1e-3)}
BATCHES = (8, 32, 128)


def _histories(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """Every run's history, with its group (`by`) and seed: for curves with bands over seeds."""
    return pd.concat([runs.history(row.path).assign(**{by: getattr(row, by), "seed": row.seed})
                      for row in table.itertuples()], ignore_index=True)


def optimizers(quick: bool = False, root=None, progress: bool = True) -> LessonResult:
    """Validation accuracy per epoch of each optimizer and batch size, and clips per second."""
    start = time.perf_counter()
    ds = data.synthetic("recall", n=DATA["n"], frames=DATA["frames"], size=DATA["size"], seed=0, span=DATA["span"])
    tr, va = data.split(ds, (0.8, 0.2), seed=0)
    base = lessons_root(root) / "optimizers"
    points = [{**settings, "seed": s} for settings in OPTIMIZERS.values() for s in SEEDS]
    by_opt = train.sweep("default", tr, va, points, base / "optimizer", progress=progress, epochs=EPOCHS, batch_size=16)
    by_opt["optimizer_name"] = [next(k for k, v in OPTIMIZERS.items() if v["lr"] == lr and v["optimizer"] == o)
                                for o, lr in zip(by_opt["optimizer"], by_opt["lr"])]
    by_batch = train.sweep("default", tr, va, {"batch_size": list(BATCHES), "seed": list(SEEDS)}, base / "batch_size",
                           progress=progress, epochs=EPOCHS, lr=3e-3)
    curves = {"optimizer": _histories(by_opt, "optimizer_name"), "batch_size": _histories(by_batch, "batch_size")}
    by_batch["clips_per_s"] = curves["batch_size"].groupby(["batch_size", "seed"])["clips_per_s"].median().to_numpy()
    first = curves["batch_size"][curves["batch_size"].epoch == 1].set_index(["batch_size", "seed"])["val_accuracy"]
    by_batch["epoch1_val_accuracy"] = [first[(b, s)] for b, s in zip(by_batch["batch_size"], by_batch["seed"])]
    summary = pd.concat([runs.summarize(by_opt, by="optimizer_name", metric="best_val_accuracy"),
                         runs.summarize(by_batch, by="batch_size", metric="best_val_accuracy")], ignore_index=True)
    return LessonResult("optimizers", "Optimizers and batch size", {"seeds": SEEDS, **DATA, "epochs": EPOCHS,
                                                                    "optimizers": OPTIMIZERS, "batches": BATCHES},
                        pd.concat([by_opt, by_batch], ignore_index=True), summary, _claims(by_opt, by_batch),
                        extra=curves, seconds=time.perf_counter() - start)


def _claims(by_opt: pd.DataFrame, by_batch: pd.DataFrame) -> list:
    def acc(name):
        return by_opt[by_opt.optimizer_name == name]["best_val_accuracy"].to_numpy()

    def batch(size, column):
        return by_batch[by_batch.batch_size == size][column].to_numpy()

    name, small, large = "optimizers", min(BATCHES), max(BATCHES)
    speedup = batch(large, "clips_per_s") / batch(small, "clips_per_s")
    return [gap(name, f"after {EPOCHS} epochs Adam is ahead of plain gradient descent", acc("adam"),
                acc("gradient descent"), 0.0, ("Adam", "gradient descent")),
            gap(name, f"after {EPOCHS} epochs RMSprop is ahead of plain gradient descent", acc("rmsprop"),
                acc("gradient descent"), 0.0, ("RMSprop", "gradient descent")),
            close(name, f"SGD with momentum 0.9 at lr 0.01 ends within 0.25 of plain gradient descent at lr 0.1: "
                        f"the same effective step, lr / (1 - momentum)", acc("momentum"), acc("gradient descent"),
                  0.25, ("momentum", "gradient descent")),
            above(name, f"batches of {large} process more clips per second than batches of {small}",
                  speedup, 1.0, f"clips/s at batch {large} over batch {small}"),
            gap(name, f"per epoch, batches of {small} learn faster: after one epoch they are ahead of batches "
                      f"of {large}", batch(small, "epoch1_val_accuracy"), batch(large, "epoch1_val_accuracy"), 0.0,
                (f"batch {small}", f"batch {large}"))]
