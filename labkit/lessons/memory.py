"""Lessons 2 and 3: how far back each temporal model remembers (`memory_span`), and why a plain
RNN cannot learn to (`vanishing_gradients`), on the `recall` task where the span is the knob.

Settings (stated here, shown by the lesson): `recall` clips of 20 frames of 16 x 16 pixels with
4 colours, 1,000 clips per span (80% train, 20% validation) and 400 fresh clips to test on;
the `default` preset with 64 hidden units (a TCN gets 4 layers, so its receptive field of 31
frames covers the clip); Adam at 3e-3, batch 32, up to 40 epochs, stopping once validation
reaches 0.99 (the frame-only model also after 5 epochs without progress: it has nothing to
find). Accuracy is the test top-1 of each run's best epoch. With 16 frames and 32 units a plain
RNN still learned a 15-frame span in some seeds, and with 24 frames even the LSTM often did not
find the cue within 30 epochs: 20 frames and 64 units separate the cells reliably.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from labkit import data, explain, runs, train

from .claims import above, below, gap
from .result import LessonResult, lessons_root, test_accuracy

# rnn and lstm carry the claims: 5 seeds; the other cells are shown with 3 (full mode only)
QUICK = dict(spans=(3, 19), cells=("rnn", "lstm"), seeds=(0, 1, 2, 3, 4), more_cells=(), more_seeds=(0, 1, 2))
FULL = dict(spans=(3, 9, 14, 19), cells=("rnn", "lstm"), seeds=(0, 1, 2, 3, 4), more_cells=("gru", "tcn", "attention"),
            more_seeds=(0, 1, 2))
DATA = dict(frames=20, size=16, n=1000, test_n=400)
TRAIN = dict(epochs=40, batch_size=32, lr=3e-3)
MODEL = dict(hidden_size=64)
LAYERS = {"tcn": 4}  # receptive field 1 + 2 * (1 + 2 + 4 + 8) = 31 frames >= 16
CHANCE = 0.25


def recall_data(span: int, seed: int = 0):
    """(train, validation, test) of `recall` at `span`; the test clips come from another seed."""
    ds = data.synthetic("recall", n=DATA["n"], frames=DATA["frames"], size=DATA["size"], seed=seed, span=span)
    tr, va = data.split(ds, (0.8, 0.2), seed=0)
    te = data.synthetic("recall", n=DATA["test_n"], frames=DATA["frames"], size=DATA["size"], seed=1000 + span,
                        span=span)
    return tr, va, te


def span_runs(spans, cells, seeds, root=None, progress: bool = True, patience: int | None = None) -> pd.DataFrame:
    """One sweep per span over cells x seeds (reusing finished runs): their runs table with a
    `span` column and `test_accuracy`. patience: also stop a run after that many epochs without
    a better validation accuracy (its sweep gets a folder of its own)."""
    tables = []
    for span in spans:
        tr, va, te = recall_data(span)
        grid = [{"cell": c, "num_layers": LAYERS.get(c, 1), **MODEL, "seed": s} for c in cells for s in seeds]
        root_ = lessons_root(root) / "memory_span" / (f"span={span}" + (f",patience={patience}" if patience else ""))
        stops = [train.StopAtTarget(0.99)] + ([train.EarlyStopping(patience)] if patience else [])
        table = train.sweep("default", tr, va, grid, root_, callbacks=stops, progress=progress, **TRAIN)
        tables.append(table.assign(span=span, test_accuracy=test_accuracy(table, te)))
    return pd.concat(tables, ignore_index=True)


def memory_span(quick: bool = False, root=None, progress: bool = True) -> LessonResult:
    """Accuracy against span per temporal model, with error bars over seeds (lesson 2)."""
    start, p = time.perf_counter(), QUICK if quick else FULL
    short, long_ = min(p["spans"]), max(p["spans"])
    parts = [span_runs(p["spans"], p["cells"], p["seeds"], root, progress),
             span_runs([long_], ["none"], p["more_seeds"], root, progress, patience=5)]
    if p["more_cells"]:
        parts.append(span_runs(p["spans"], p["more_cells"], p["more_seeds"], root, progress))
    table = pd.concat(parts, ignore_index=True)
    summary = runs.summarize(table, by=["cell", "span"], metric="test_accuracy")

    def acc(cell, span):
        return table[(table.cell == cell) & (table.span == span)]["test_accuracy"].to_numpy()

    name = "memory_span"
    claims = [
        above(name, f"at a span of {short} frames the plain RNN recalls the cue (test accuracy above 0.9)",
              acc("rnn", short), 0.9, "RNN accuracy"),
        above(name, f"at a span of {short} frames the LSTM recalls the cue (test accuracy above 0.9)",
              acc("lstm", short), 0.9, "LSTM accuracy"),
        gap(name, f"the plain RNN's accuracy falls by more than 0.3 from a span of {short} to {long_} frames",
            acc("rnn", short), acc("rnn", long_), 0.3, (f"span {short}", f"span {long_}")),
        above(name, f"the LSTM still recalls the cue at a span of {long_} frames (test accuracy above 0.9)",
              acc("lstm", long_), 0.9, "LSTM accuracy"),
        gap(name, f"at a span of {long_} frames the plain RNN falls at least 0.2 below the LSTM",
            acc("lstm", long_), acc("rnn", long_), 0.2, ("LSTM", "RNN")),
        below(name, f"a frame-only model (no recurrence) stays near chance ({CHANCE}) at a span of {long_}",
              acc("none", long_), CHANCE + 0.1, "frame-only accuracy"),
    ]
    claims += [above(name, f"at a span of {long_} frames the {label} recalls the cue (test accuracy above 0.9)",
                     acc(cell, long_), 0.9, "accuracy")
               for cell, label in (("gru", "GRU"), ("tcn", "TCN (receptive field 31 frames)")) if cell in p["more_cells"]]
    if "attention" in p["more_cells"]:
        claims.append(gap(name, f"at a span of {long_} frames attention recalls better than the plain RNN",
                          acc("attention", long_), acc("rnn", long_), 0.0, ("attention", "RNN")))
    return LessonResult(name, "Memory span: how far back each temporal model recalls a cue",
                        {**p, **DATA, **TRAIN, "layers": LAYERS, "quick": quick}, table, summary, claims,
                        seconds=time.perf_counter() - start)


def cue_gradients(table: pd.DataFrame, clips: int = 32) -> pd.DataFrame:
    """For each trained run of `table` (cell, span, seed, path): the loss gradient reaching each
    frame of `clips` test clips (`explain.gradient_flow`, targets = true labels), as rows
    cell, span, seed, frame, grad_norm, plus `cue` (frame T-1-span)."""
    rows = []
    for row in table.itertuples():
        te = recall_data(row.span)[2]
        idx = np.arange(clips)
        flow = explain.gradient_flow(runs.load(row.path), te.batch(idx)[0], target=[int(y) for y in te.labels[idx]])
        flow = flow.groupby("frame", as_index=False)["grad_norm"].mean()
        rows.append(flow.assign(cell=row.cell, span=row.span, seed=row.seed, cue=DATA["frames"] - 1 - row.span))
    return pd.concat(rows, ignore_index=True)


def vanishing_gradients(quick: bool = False, root=None, progress: bool = True) -> LessonResult:
    """The gradient each trained model passes back to the cue frame, relative to the last frame
    (lesson 3; it reuses the memory-span runs)."""
    start, p = time.perf_counter(), QUICK if quick else FULL
    cells = [c for c in ("rnn", "lstm", "gru") if c in p["cells"]]
    spans = sorted({min(p["spans"]), max(p["spans"])})
    table = span_runs(spans, cells, p["seeds"], root, progress)
    flows = cue_gradients(table)
    last = flows[flows.frame == DATA["frames"] - 1].set_index(["cell", "span", "seed"])["grad_norm"]
    cue = flows[flows.frame == flows.cue].set_index(["cell", "span", "seed"])["grad_norm"]
    ratio = np.log10(cue / last).rename("log10_cue_over_last").reset_index()
    summary = runs.summarize(ratio, by=["cell", "span"], metric="log10_cue_over_last")
    long_ = spans[-1]

    def r(cell):
        return ratio[(ratio.cell == cell) & (ratio.span == long_)]["log10_cue_over_last"].to_numpy()

    name = "vanishing_gradients"
    factor = 10 ** (r("lstm").mean() - r("rnn").mean())
    claims = [gap(name, f"at a span of {long_} frames the trained plain RNN passes back less gradient to the cue "
                        f"frame (relative to the last frame) than the trained LSTM: {factor:,.0f}x less on average",
                  r("lstm"), r("rnn"), 0.0, ("LSTM log10(cue/last)", "RNN log10(cue/last)"))]
    return LessonResult(name, "Vanishing gradients: what reaches the cue frame", {**p, "spans": spans},
                        ratio.merge(table[["cell", "span", "seed", "path"]]), summary, claims,
                        extra={"flows": flows}, seconds=time.perf_counter() - start)
