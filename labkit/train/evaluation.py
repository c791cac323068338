"""`evaluate(model, ds)`: accuracy (top-1, top-5, mean per class), confusion matrix, per-class
precision/recall and a per-clip predictions table."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from labkit.errors import LabkitError
from labkit import data

from .devices import resolve_device, resolve_precision


@dataclass
class EvalResult:
    """Metrics of one model on one dataset.

    `top5` is None with fewer than 5 classes. `confusion`: counts, rows = true class, columns =
    predicted class. `per_class`: precision, recall, support per class (precision is NaN for a
    class never predicted). `predictions`: one row per clip (clip index, true and predicted class
    names, confidence = probability of the predicted class, correct). `probabilities`: (N, K).
    """

    top1: float
    top5: float | None
    mean_class_accuracy: float
    loss: float
    confusion: pd.DataFrame
    per_class: pd.DataFrame
    predictions: pd.DataFrame
    probabilities: np.ndarray

    @classmethod
    def from_probabilities(cls, probabilities, labels, classes: list[str]) -> "EvalResult":
        """Compute every metric from class probabilities (N, K) and true labels (N,)."""
        p = np.asarray(probabilities, dtype=np.float64)
        y = np.asarray(labels, dtype=np.int64)
        n, k = p.shape
        if len(classes) != k or len(y) != n:
            raise LabkitError(f"probabilities {p.shape}, labels ({len(y)},) and {len(classes)} classes do not agree")
        pred = p.argmax(1)
        confusion = np.zeros((k, k), dtype=np.int64)
        np.add.at(confusion, (y, pred), 1)
        support = confusion.sum(1)
        predicted = confusion.sum(0)
        hits = np.diag(confusion)
        with np.errstate(invalid="ignore", divide="ignore"):
            recall = hits / support
            precision = hits / predicted
        top5 = None
        if k >= 5:
            top = np.argsort(-p, axis=1)[:, :5]  # (N, 5)
            top5 = float((top == y[:, None]).any(1).mean())
        names = np.asarray(classes, dtype=object)
        return cls(
            top1=float((pred == y).mean()) if n else float("nan"),
            top5=top5,
            mean_class_accuracy=float(np.nanmean(recall)) if support.any() else float("nan"),
            loss=float(-np.log(np.clip(p[np.arange(n), y], 1e-12, None)).mean()) if n else float("nan"),
            confusion=pd.DataFrame(confusion, index=pd.Index(classes, name="true"),
                                   columns=pd.Index(classes, name="predicted")),
            per_class=pd.DataFrame({"precision": precision, "recall": recall, "support": support},
                                   index=pd.Index(classes, name="class")),
            predictions=pd.DataFrame({"clip": np.arange(n), "true": names[y], "predicted": names[pred],
                                      "confidence": p[np.arange(n), pred], "correct": pred == y}),
            probabilities=p,
        )

    def to_dict(self) -> dict:
        """The headline numbers as a JSON-ready dict."""
        return {"top1": self.top1, "top5": self.top5, "mean_class_accuracy": self.mean_class_accuracy,
                "loss": self.loss, "clips": len(self.predictions)}

    def __repr__(self) -> str:
        top5 = "n/a" if self.top5 is None else f"{self.top5:.4f}"
        return (f"EvalResult(top1={self.top1:.4f}, top5={top5}, "
                f"mean_class_accuracy={self.mean_class_accuracy:.4f}, clips={len(self.predictions)})")


@torch.no_grad()
def predict_loader(model, loader, precision, use_lengths: bool):
    """Yield (logits float32 (B, K) on the model's device, labels (B,) on that device) per batch.

    Runs in eval mode and puts the model back in its previous mode afterwards.
    """
    was_training = model.training
    model.eval()
    try:
        for clips, labels, lengths in loader:
            x = model.preprocess(clips)  # uint8 (B, T, H, W, C) -> float (B, T, C, H, W) on device
            with precision.autocast():
                logits = model(x, lengths if use_lengths else None)
            yield logits.float(), labels.to(x.device, non_blocking=True)
    finally:
        model.train(was_training)


def evaluate(model, ds, batch_size: int = 64, device="auto", precision: str = "fp32",
             workers: int = 0) -> EvalResult:
    """Run `model` over every clip of `ds` and compute its metrics (see EvalResult).

    The model is moved to `device` ("auto": CUDA, else MPS, else CPU) and stays there;
    precision as `TrainConfig.precision`; workers: data-loader processes.
    """
    if len(ds) == 0:
        raise LabkitError("evaluate: the dataset is empty")
    if model.config.num_classes != ds.num_classes:
        raise LabkitError(f"evaluate: the model predicts {model.config.num_classes} classes but the dataset "
                         f"has {ds.num_classes} ({ds.classes}); evaluate on data with the same classes")
    dev = resolve_device(device)
    model.to(dev)
    precision = resolve_precision(precision, dev)
    loader = data.make_loader(ds, batch_size, shuffle=False, num_workers=workers,
                              pin_memory=dev.type == "cuda")
    probs, labels = [], []
    for logits, y in predict_loader(model, loader, precision, use_lengths=ds.lengths is not None):
        probs.append(torch.softmax(logits, -1).cpu())
        labels.append(y.cpu())
    return EvalResult.from_probabilities(torch.cat(probs).numpy(), torch.cat(labels).numpy(), list(ds.classes))
