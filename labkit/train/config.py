"""`TrainConfig`: every setting of a training run, in one dataclass (the training twin of DCRNConfig).

Each field carries its help text (and its choices) in its metadata: `labkit train` builds its
options from these fields, so the command line and `fit` can never disagree.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field

from labkit.errors import LabkitError, SettingError
from .optim import OPTIMIZERS, SCHEDULERS

PRECISIONS = ("fp32", "bf16", "fp16", "auto")


def _setting(default, help: str, choices=None):
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass
class TrainConfig:
    """How to train: `fit(model, train_ds, val_ds, TrainConfig(epochs=5, lr=3e-3))`."""

    epochs: int = _setting(10, "passes over the training set (a resumed run goes on up to this many)")
    batch_size: int = _setting(32, "clips per update; under torchrun the GLOBAL batch, split evenly over the processes")
    optimizer: str = _setting("adam", "adam, sgd (momentum 0 is plain gradient descent) or rmsprop", OPTIMIZERS)
    lr: float = _setting(1e-3, "learning rate")
    momentum: float | None = _setting(
        None, "sgd/rmsprop momentum, or Adam's beta1; none: each optimizer's usual value (sgd 0.9, rmsprop 0, adam 0.9)")
    weight_decay: float = _setting(0.0, "L2 penalty added by the optimizer")
    scheduler: str | None = _setting(None, "learning-rate schedule, stepped per batch (none: constant)", SCHEDULERS)
    grad_clip: float | None = _setting(None, "clip the gradient's global norm to this value (none: no clipping)")
    precision: str = _setting("fp32", "fp32, or bf16 / fp16 mixed precision (fp16 with loss scaling; not on CPU), "
                                      "or auto: bf16 where the device supports it, else fp16", PRECISIONS)
    device: str = _setting("auto", "auto (CUDA, else Apple MPS, else CPU), cpu, cuda, cuda:1 or mps")
    seed: int = _setting(0, "seed of shuffling, augmentation and dropout (the run repeats exactly)")
    augment: object = _setting(True, "clip augmentation on the training split: true (data.augment_for: no flips "
                                     "where mirroring changes the class), false, or clip_augment settings as a dict")
    early_stopping: int | None = _setting(
        None, "patience: stop after this many epochs without a better validation accuracy (none: never)")
    workers: int = _setting(0, "data-loader worker processes (0: load in the training process)")
    threads: int | None = _setting(None, "CPU threads for this run (none: torch's setting)")

    def to_dict(self) -> dict:
        """Plain JSON-ready dict; a custom augmentation callable is recorded as its repr."""
        d = dataclasses.asdict(self)
        if callable(self.augment):
            d["augment"] = repr(self.augment)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Inverse of `to_dict`; unknown keys raise a TypeError naming them."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise SettingError(f"unknown TrainConfig field(s) {unknown}; valid fields: {sorted(names)}")
        return cls(**d)

    def replace(self, **changes) -> "TrainConfig":
        """A copy with some fields changed (unknown names raise a TypeError naming them)."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise SettingError(f"unknown training setting(s) {unknown}; valid settings: {sorted(names)}")
        return dataclasses.replace(self, **changes)

    # ---- checking -----------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Everything wrong with this config, one sentence each naming the field and the fix."""
        out = [p for name, low, optional in _WHOLE if (p := _whole(self, name, low, optional))]
        out += [p for name, low, high, optional in _REAL if (p := _real(self, name, low, high, optional))]
        for f in dataclasses.fields(self):
            choices = f.metadata.get("choices")
            if choices is not None and getattr(self, f.name) not in choices:
                out.append(f"{f.name}={getattr(self, f.name)!r} is not a choice; use one of {list(choices)}")
        if not (isinstance(self.augment, (bool, dict)) or callable(self.augment)):
            out.append(f"augment={self.augment!r}; use true, false, a dict of data.clip_augment settings "
                       "(e.g. {'shift': 0.1}) or a transform(clip, rng) function")
        if not isinstance(self.device, str) or not self.device:
            out.append(f"device={self.device!r}; use 'auto', 'cpu', 'cuda', 'cuda:1' or 'mps'")
        return out

    def validate(self) -> "TrainConfig":
        """Raise ValueError listing every problem (naming the setting and its valid range); else self."""
        problems = self.problems()
        if problems:
            raise LabkitError("invalid TrainConfig: " + "; ".join(problems))
        return self


def _help(name: str) -> str:
    return next(f.metadata["help"] for f in dataclasses.fields(TrainConfig) if f.name == name)


# (name, smallest valid value, None allowed)
_WHOLE = (("epochs", 1, False), ("batch_size", 1, False), ("seed", 0, False), ("early_stopping", 1, True),
          ("workers", 0, False), ("threads", 1, True))
# (name, lower bound, upper bound (exclusive), None allowed)
_REAL = (("lr", 0.0, None, False), ("momentum", 0.0, 1.0, True), ("weight_decay", 0.0, None, False),
         ("grad_clip", 0.0, None, True))


def _whole(cfg: TrainConfig, name: str, low: int, optional: bool) -> str | None:
    v = getattr(cfg, name)
    if v is None and optional:
        return None
    if not isinstance(v, numbers.Integral) or isinstance(v, bool):
        return f"{name}={v!r} must be a whole number" + (" or none" if optional else "") + f" ({_help(name)})"
    if v < low:
        return f"{name}={v} is too small; the smallest valid value is {low}"
    return None


def _real(cfg: TrainConfig, name: str, low: float, high: float | None, optional: bool) -> str | None:
    """lr >= 0, momentum in [0, 1), weight_decay >= 0, grad_clip > 0 (a negative clip would turn
    descent into ascent, and 0 would stop learning)."""
    v = getattr(cfg, name)
    if v is None and optional:
        return None
    if not isinstance(v, numbers.Real) or isinstance(v, bool) or not math.isfinite(v):
        return f"{name}={v!r} must be a finite number" + (" or none" if optional else "") + f" ({_help(name)})"
    strict_low = name == "grad_clip"
    if v < low or (strict_low and v == low) or (high is not None and v >= high):
        span = f"{'>' if strict_low else '>='} {low:g}" + (f" and < {high:g}" if high is not None else "")
        return f"{name}={v!r} is out of range; use a value {span}"
    return None
