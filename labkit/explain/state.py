"""The model state every gradient-based explanation needs, set for one call and then restored."""
from __future__ import annotations

import contextlib

import torch
import torch.nn as nn


@contextlib.contextmanager
def explaining(model: nn.Module):
    """Eval mode (dropout off, batch norm frozen), no parameter gradients, gradients enabled.

    cuDNN's recurrent kernels refuse to run backward outside training mode, so cuDNN is
    switched off for the call when the model has a recurrent layer; the model stays in eval
    mode, which is what makes the explanation match the model's predictions. The training
    flag and every parameter's `requires_grad` are put back afterwards, even on error.
    """
    was_training = model.training
    grads = [p.requires_grad for p in model.parameters()]
    recurrent = getattr(model, "rnn", None) is not None
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        with torch.enable_grad(), (torch.backends.cudnn.flags(enabled=False) if recurrent
                                   else contextlib.nullcontext()):
            yield model
    finally:
        model.train(was_training)
        for p, g in zip(model.parameters(), grads):
            p.requires_grad_(g)
