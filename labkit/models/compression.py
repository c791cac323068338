"""Smaller and faster models for CPU inference: int8 dynamic quantization, magnitude pruning, and
one table that measures each step (parameters, size on disk, CPU latency per clip, accuracy).

    small = models.quantize(model)                  # a copy: recurrent and linear layers in int8
    sparse = models.prune(model, 0.5)               # a copy: half of every weight tensor zeroed
    models.compression_table(model, test_ds)        # float / pruned / quantized / both, measured

Both return copies and leave the model as it was. Dynamic quantization stores the weights of
nn.LSTM/GRU/RNN and nn.Linear as int8 (with a scale each) and quantizes their inputs on the fly,
so it needs no calibration data; convolutions stay in float. It runs on the CPU only.
"""
from __future__ import annotations

import copy
import io
import statistics
import time
import warnings

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from torch.nn.utils import prune as torch_prune

from labkit.errors import LabkitError

QUANTIZED_TYPES = (nn.LSTM, nn.GRU, nn.RNN, nn.Linear)
TABLE_COLUMNS = ["step", "params", "nonzero_params", "size_bytes", "size_ratio", "latency_ms", "accuracy",
                 "accuracy_change"]


def quantize(model: nn.Module) -> nn.Module:
    """A CPU copy of `model` whose recurrent and linear layers hold int8 weights (dynamic
    quantization); everything else, the frame encoder included, stays fp32. For inference."""
    cpu = copy.deepcopy(model).cpu().eval()
    with warnings.catch_warnings():
        # torch.ao.quantization announces its move to torchao on every call; the pinned torch
        # still ships it, and the lab measures what it does
        warnings.simplefilter("ignore", (DeprecationWarning, UserWarning))
        return torch.ao.quantization.quantize_dynamic(cpu, set(QUANTIZED_TYPES), dtype=torch.qint8)


def prunable(model: nn.Module) -> list[tuple[nn.Module, str]]:
    """(module, parameter name) of every weight matrix or kernel (2-D or more): conv, linear and
    recurrent weights; biases and batch-norm scales are left alone."""
    return [(m, name) for m in model.modules() for name, p in m.named_parameters(recurse=False) if p.dim() >= 2]


def prune(model: nn.Module, amount: float) -> nn.Module:
    """A copy of `model` with the `amount` fraction (0..1) of smallest-magnitude entries of each
    weight tensor set to zero, permanently (no masks or hooks stay behind: the zeros are the
    weights). Pruned per tensor, so no layer loses more than the others."""
    if not 0.0 <= float(amount) < 1.0:
        raise LabkitError(f"prune: amount={amount!r} must lie in [0, 1) (the fraction of each weight tensor zeroed)")
    out = copy.deepcopy(model)
    for module, name in prunable(out):
        torch_prune.l1_unstructured(module, name, amount=float(amount))
        torch_prune.remove(module, name)  # the mask is multiplied in: the weight itself is now sparse
    return out


def size_on_disk(model: nn.Module) -> int:
    """Bytes of `torch.save(model.state_dict())`: what a checkpoint of these weights takes."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes


def count_params(model: nn.Module) -> tuple[int, int]:
    """(weights, non-zero weights): parameters and the int8 weights of quantized layers alike."""
    dynamic = torch.ao.nn.quantized.dynamic
    tensors = [p.detach() for p in model.parameters()]
    for m in model.modules():
        if isinstance(m, dynamic.Linear):  # int8 weight, float bias
            tensors += [t for t in m._weight_bias() if t is not None]
        elif isinstance(m, dynamic.modules.rnn.RNNBase):  # its weights and biases by name
            tensors += [t for t in {**m.get_weight(), **m.get_bias()}.values() if t is not None]
    values = [t.dequantize() if t.is_quantized else t for t in tensors]
    return sum(t.numel() for t in values), sum(int(t.count_nonzero()) for t in values)


def cpu_latencies(models: list[nn.Module], clip: np.ndarray, repeats: int = 20) -> list[float]:
    """Median seconds of one clip (uint8 (T, H, W, C)) through each model's `predict_proba` on one
    CPU thread (a clip this small gains little from more, and threads waiting on each other made
    the figure swing tenfold on a shared machine). The models take turns, call by call, after a
    warm-up call each (first calls allocate), so a spell of load slows them all alike."""
    times, threads = [[] for _ in models], torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for m in models:
            m.predict_proba(clip)
        for _ in range(repeats):
            for m, seconds in zip(models, times):
                start = time.perf_counter()
                m.predict_proba(clip)
                seconds.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
    return [statistics.median(t) for t in times]


def _accuracy(model: nn.Module, ds) -> float:
    """Top-1 of `model` on every clip of `ds` (anything with `batch(indices)` -> clips, labels, lengths)."""
    clips, labels, lengths = ds.batch(np.arange(len(ds)))
    same = (lengths == lengths[0]).all()
    return float((model.predict_proba(clips, None if same else lengths).argmax(1) == labels).mean())


def compression_table(model: nn.Module, ds, amount: float = 0.5, repeats: int = 20) -> pd.DataFrame:
    """Each step of making `model` smaller, measured on the CPU: "float" (as it is), "pruned"
    (`prune(model, amount)`), "quantized" (`quantize(model)`) and "pruned + quantized".

    Columns: step, params and nonzero_params, size_bytes (`size_on_disk`) and size_ratio (to
    float), latency_ms (median per clip, batch 1, `cpu_latencies` on the first clip of ds),
    accuracy (top-1 on ds: a dataset such as data.synthetic(...)) and accuracy_change (to float).
    """
    float_model = copy.deepcopy(model).cpu().eval()
    pruned = prune(float_model, amount)
    steps = {"float": float_model, f"pruned {amount:.0%}": pruned, "quantized int8": quantize(float_model),
             f"pruned {amount:.0%} + quantized int8": quantize(pruned)}
    latency = cpu_latencies(list(steps.values()), ds[0][0], repeats)
    rows = []
    for (step, m), seconds in zip(steps.items(), latency):
        params, nonzero = count_params(m)
        rows.append({"step": step, "params": params, "nonzero_params": nonzero, "size_bytes": size_on_disk(m),
                     "latency_ms": 1e3 * seconds, "accuracy": _accuracy(m, ds)})
    table = pd.DataFrame(rows)
    table["size_ratio"] = table["size_bytes"] / table["size_bytes"].iloc[0]
    table["accuracy_change"] = table["accuracy"] - table["accuracy"].iloc[0]
    return table[TABLE_COLUMNS]
