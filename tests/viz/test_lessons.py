"""The lessons' figures: spread over seeds always drawn (error bars, bands)."""
import numpy as np
import pandas as pd
import pytest

from labkit import runs, viz


def _table():
    rng = np.random.default_rng(0)
    rows = [dict(cell=c, span=s, seed=k, test_accuracy=float(np.clip(a - 0.02 * s * (c == "rnn") + rng.normal(0, .02), 0, 1)))
            for c, a in (("rnn", 1.0), ("lstm", 0.99)) for s in (3, 9, 19) for k in range(3)]
    return pd.DataFrame(rows)


def test_span_curves_and_summary_bars_draw_the_interval():
    summary = runs.summarize(_table(), by=["cell", "span"], metric="test_accuracy")
    fig = viz.span_curves(summary, chance=0.25)
    assert [t.name for t in fig.data] == ["rnn", "lstm"]
    rnn = fig.data[0]
    assert list(rnn.x) == [3, 9, 19] and len(rnn.error_y.array) == 3 and all(e >= 0 for e in rnn.error_y.array)
    bars = viz.summary_bars(runs.summarize(_table(), by="cell", metric="test_accuracy"), "cell", chance=0.25)
    assert list(bars.data[0].x) == ["rnn", "lstm"] and bars.data[0].error_y.arrayminus is not None
    with pytest.raises(ValueError, match="needs columns"):
        viz.span_curves(summary.drop(columns="ci_low"))


def test_curves_with_bands_and_batch_gradients():
    hist = pd.DataFrame([dict(opt=o, seed=s, epoch=e, val_accuracy=0.2 * e + 0.01 * s + (o == "adam") * 0.1)
                         for o in ("sgd", "adam") for s in range(3) for e in range(1, 4)])
    fig = viz.curves_with_bands(hist, "opt")
    assert len(fig.data) == 4 and fig.data[0].fill == "toself"  # band, then line, per group
    assert list(fig.data[1].y) == pytest.approx([0.21, 0.41, 0.61])
    log = viz.curves_with_bands(hist.assign(val_accuracy=10.0 ** -hist.epoch), "opt", log=True)
    assert log.layout.yaxis.type == "log" and log.data[1].y[0] == pytest.approx(0.1)
    batches = pd.DataFrame([dict(clipping=c, seed=s, step=t, grad_norm=1.0 + t) for c in ("none", "at norm 1")
                            for s in range(2) for t in range(5)])
    g = viz.batch_gradients(batches, "clipping")
    assert len(g.data) == 4 and sum(t.showlegend for t in g.data) == 2 and g.layout.yaxis.type == "log"
