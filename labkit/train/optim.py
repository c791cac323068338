"""Optimizers and learning-rate schedules by name, as the lab's sliders and the CLI pick them."""
from __future__ import annotations

import torch

from labkit.errors import LabkitError

OPTIMIZERS = ("adam", "sgd", "rmsprop")
SCHEDULERS = (None, "cosine", "step", "onecycle")


DEFAULT_MOMENTUM = {"adam": 0.9, "sgd": 0.9, "rmsprop": 0.0}


def make_optimizer(params, name: str = "adam", lr: float = 1e-3, weight_decay: float = 0.0,
                   momentum: float | None = None) -> torch.optim.Optimizer:
    """"adam", "sgd" or "rmsprop" over `params`.

    momentum: SGD's and RMSprop's momentum, Adam's beta1 (its momentum coefficient); None takes
    DEFAULT_MOMENTUM. SGD with momentum 0 is plain (mini-batch) gradient descent.
    """
    if name not in OPTIMIZERS:
        raise LabkitError(f"optimizer={name!r}; choose one of {OPTIMIZERS}")
    m = DEFAULT_MOMENTUM[name] if momentum is None else momentum
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, betas=(m, 0.999))
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=m, weight_decay=weight_decay)
    return torch.optim.RMSprop(params, lr=lr, momentum=m, weight_decay=weight_decay)


def make_scheduler(optimizer: torch.optim.Optimizer, name: str | None, epochs: int,
                   steps_per_epoch: int) -> torch.optim.lr_scheduler.LRScheduler | None:
    """A schedule stepped once per batch over `epochs * steps_per_epoch` steps.

    "cosine": anneal to 0; "step": x0.1 after every third of training; "onecycle": warm up to the
    optimizer's lr then anneal (OneCycleLR). None: constant lr.
    """
    total = max(1, epochs * steps_per_epoch)
    if name is None:
        return None
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, total // 3), gamma=0.1)
    if name == "onecycle":
        max_lr = [g["lr"] for g in optimizer.param_groups]
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total)
    raise LabkitError(f"scheduler={name!r}; choose one of {SCHEDULERS}")
