"""Training curves: loss and accuracy per epoch, train against validation, side by side.

An epoch cut short (Stop pressed mid-epoch) is not a full epoch: a history may carry a
`fraction` column (the share of the epoch's batches that ran, 1.0 for a full epoch); such an
epoch is drawn at its share of the way along an "epochs trained" axis with an open marker, and
labelled "partial" in tables (`epoch_labels`). `versus_chance` puts a test accuracy against chance
in one sentence, with its interval.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots
from scipy.special import erfinv

from labkit.errors import LabkitError

PANELS = (("loss", "loss"), ("accuracy", "accuracy"))  # (panel title, history column)
TRAIN_COLOR, VAL_COLOR = "#1f77b4", "#ff7f0e"
FULL_MARKER, PARTIAL_MARKER = "circle", "circle-open"


def _column(h: pd.DataFrame, name: str) -> list:
    return h[name].tolist() if name in h and h[name].notna().any() else []


def epoch_fractions(history: pd.DataFrame) -> np.ndarray:
    """(E,) share of each epoch's batches that ran: the `fraction` column, 1.0 where it is
    missing (a history without the column is all full epochs)."""
    if "fraction" not in history:
        return np.ones(len(history))
    return pd.to_numeric(history["fraction"], errors="coerce").fillna(1.0).to_numpy(float)


def is_partial(history: pd.DataFrame) -> np.ndarray:
    """(E,) bool: the epochs cut short (fraction below 1)."""
    return epoch_fractions(history) < 1.0


def epoch_positions(history: pd.DataFrame) -> np.ndarray:
    """(E,) where each epoch ends on an "epochs trained" axis.

    Without a `fraction` column: the epoch numbers themselves. With one: the epochs trained so far
    (the running sum of fractions, after the epochs before the first row), so full epochs 1, 2 sit
    at 1, 2, an epoch 3 stopped after 2 of 10 batches at 2.2, and a full epoch 4 after it at 3.2.
    """
    if "fraction" not in history or history.empty:
        return history["epoch"].to_numpy(float) if "epoch" in history else np.arange(1.0, len(history) + 1)
    before = float(history["epoch"].iloc[0]) - 1 if "epoch" in history else 0.0
    return before + np.cumsum(epoch_fractions(history))


def epoch_labels(history: pd.DataFrame) -> list[str]:
    """(E,) text per epoch for tables and hover: "3", or "3 (partial: 20% of its batches)"."""
    fractions = epoch_fractions(history)
    epochs = history["epoch"].tolist() if "epoch" in history else range(1, len(history) + 1)
    return [f"{int(e)}" if f >= 1.0 else f"{int(e)} (partial: {f:.0%} of its batches)"
            for e, f in zip(epochs, fractions)]


def _epoch_traces(h: pd.DataFrame, key: str, name, i: int, col: int) -> list[go.Scatter]:
    """The train and validation traces of one history in one panel (partial epochs: open markers)."""
    x, labels = epoch_positions(h).tolist(), epoch_labels(h)
    symbols = [PARTIAL_MARKER if p else FULL_MARKER for p in is_partial(h)]
    traces = []
    for split, prefix, dash in (("train", "", "solid"), ("val", "val_", "dash")):
        color = (TRAIN_COLOR if split == "train" else VAL_COLOR) if name is None \
            else qualitative.Plotly[i % len(qualitative.Plotly)]
        label = f"{split} {key}" if name is None else f"{name} {split}"
        y = _column(h, prefix + key)
        traces.append(go.Scatter(
            x=x if y else [], y=y, name=label, mode="lines+markers", text=labels if y else [],
            line=dict(color=color, dash=dash), marker=dict(symbol=symbols if y else FULL_MARKER, size=8),
            hovertemplate=f"epoch %{{text}}<br>{label} %{{y:.4g}}<extra></extra>",
            legendgroup=label, showlegend=col == 1 or name is None))
    return traces


def training_curves(history, batches: pd.DataFrame | None = None, title: str | None = None,
                    height: int = 340) -> go.Figure:
    """Loss (left) and accuracy (right) per epoch, train solid and validation dashed.

    history: a `FitResult.history` DataFrame (epoch, loss, accuracy, val_loss, val_accuracy, ...
    [, fraction]), or a dict {run name: history} to overlay runs (one colour per run). batches
    (optional, one history only): per-batch DataFrame (step on the same epochs-trained axis,
    loss, accuracy), drawn as a thin line under the epoch curves — what a live dashboard shows
    between epochs. Partial epochs (fraction < 1) sit at their share of an epoch, open markers.
    Trace order for one history: train loss, val loss, train accuracy, val accuracy
    [, batch loss, batch accuracy] — the dashboard updates traces by this order.
    """
    runs = history if isinstance(history, dict) else {None: history}
    fig = make_subplots(rows=1, cols=2, subplot_titles=[p[0] for p in PANELS], horizontal_spacing=0.1)
    for i, (name, h) in enumerate(runs.items()):
        h = pd.DataFrame(h)
        for col, (_, key) in enumerate(PANELS, start=1):
            for trace in _epoch_traces(h, key, name, i, col):
                fig.add_trace(trace, row=1, col=col)
    if batches is not None:
        if isinstance(history, dict):
            raise LabkitError("batches go with one history, not a dict of runs")
        for col, (_, key) in enumerate(PANELS, start=1):
            fig.add_trace(go.Scatter(x=_column(batches, "step"), y=_column(batches, key),
                                     name=f"batch {key}", mode="lines", hoverinfo="skip",
                                     line=dict(color=TRAIN_COLOR, width=1), opacity=0.35), row=1, col=col)
    partial = any(is_partial(pd.DataFrame(h)).any() for h in runs.values())
    fig.update_xaxes(title_text="epochs trained (open marker: a partial epoch)" if partial else "epoch")
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_layout(title=title, height=height, margin=dict(l=50, r=10, t=60 if title else 30, b=40),
                      legend=dict(orientation="h", y=-0.2), template="plotly_white")
    return fig


def _wilson(hits: int, n: int, z: float) -> tuple[float, float]:
    """The Wilson score interval of a proportion hits/n (sound for small n and for 0 or n hits)."""
    p, z2 = hits / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def versus_chance(confusion, confidence: float = 0.95) -> str:
    """One sentence on a test result against chance, computed from its confusion matrix (K, K)
    of counts (rows: true class; e.g. `train.evaluate(...).confusion`).

    Chance is what always guessing the test set's most common class scores (1/K when balanced).
    The top-1 accuracy gets its Wilson interval at `confidence` over the n test clips: above
    chance when the whole interval is, at chance when the interval holds it, below otherwise.
    """
    counts = np.asarray(confusion, dtype=np.int64)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.sum() == 0:
        raise LabkitError(f"versus_chance needs a square confusion matrix of counts with some clips; got shape "
                          f"{counts.shape}; pass train.evaluate(model, ds).confusion")
    n, hits = int(counts.sum()), int(np.trace(counts))
    chance = counts.sum(1).max() / n
    z = float(np.sqrt(2) * erfinv(confidence))
    low, high = _wilson(hits, n, z)
    where = "above chance" if low > chance else "below chance" if high < chance else \
        "not distinguishable from chance"
    return (f"test top-1 {hits / n:.2f} ({hits} of {n} clips; {confidence:.0%} interval {low:.2f}-{high:.2f}) "
            f"against chance {chance:.2f} (always the commonest class): {where}")
