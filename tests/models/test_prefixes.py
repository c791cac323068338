"""`model.predict_prefixes(clip)`: the class probabilities after every prefix of frames equal
`predict_proba` of that prefix, for every temporal model and readout, and the causal models get
them from one pass (the recurrence carries its state on; nothing is re-run per prefix)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from labkit import data

CASES = [("gru", {}), ("lstm", {}), ("rnn", {}), ("lstm", {"bidirectional": True}), ("gru", {"num_layers": 2}),
         ("tcn", {}), ("attention", {}), ("convlstm", {}), ("none", {})]


@pytest.fixture(scope="module")
def clips():
    return data.synthetic("direction", n=2, frames=6, size=16, seed=3).batch([0, 1])[0]  # (2, 6, 16, 16, 3) uint8


def _model(tiny, cell, readout, extra):
    kw = {"temporal_readout": readout} if cell != "none" else {}
    return tiny("default", size=16, cell=cell, **kw, **extra)


# cell="none" has one readout (the mean over time): it is run once
READOUTS = [(c, e, r) for c, e in CASES for r in ("last", "mean") if not (c == "none" and r == "mean")]


@pytest.mark.parametrize("cell,extra,readout", READOUTS,
                         ids=[f"{c}{'-' + '-'.join(e) if e else ''}-{r}" for c, e, r in READOUTS])
def test_every_prefix_equals_the_prediction_on_that_prefix(tiny, clips, cell, extra, readout):
    model = _model(tiny, cell, readout, extra)
    got = model.predict_prefixes(clips[0])  # (T, K)
    T, K = clips.shape[1], model.config.num_classes
    assert got.shape == (T, K)
    want = np.stack([model.predict_proba(clips[0][:t + 1])[0] for t in range(T)])
    np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(got.sum(1), 1.0, atol=1e-5)
    np.testing.assert_allclose(got[-1], model.predict_proba(clips[0])[0], atol=1e-5)


def test_a_batch_gives_one_curve_per_clip_and_lengths_blank_the_padding(tiny, clips):
    model = _model(tiny, "gru", "last", {})
    both = model.predict_prefixes(clips)
    assert both.shape == (2, 6, 3)
    np.testing.assert_allclose(both[1], model.predict_prefixes(clips[1]), atol=1e-6)
    cut = model.predict_prefixes(clips, lengths=[6, 4])
    assert np.isnan(cut[1, 4:]).all() and not np.isnan(cut[1, :4]).any()
    np.testing.assert_allclose(cut[1, :4], both[1, :4], atol=1e-6)


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn", "tcn", "convlstm"])
def test_causal_models_run_their_temporal_module_once_over_the_clip(tiny, clips, cell):
    model = _model(tiny, cell, "last", {})
    calls = []
    handle = model.temporal_module.register_forward_hook(lambda m, i, o: calls.append(i[0].shape))
    try:
        model.predict_prefixes(clips[0])
    finally:
        handle.remove()
    assert len(calls) == 1, f"{cell}: {len(calls)} calls"
    first = calls[0][0]  # the batch: one clip (B*T = 6 sequences if every prefix were run)
    assert first == 1, f"{cell} ran {first} sequences, not one clip: it re-ran the prefixes"


def test_the_model_stays_in_the_mode_it_was_in(tiny, clips):
    model = _model(tiny, "gru", "last", {}).train()
    model.predict_prefixes(clips[0])
    assert model.training
    with torch.no_grad():
        assert model.prefix_logits(model.preprocess(clips[:1])).shape == (1, 6, 3)
