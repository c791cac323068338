"""gradient_flow(): loss gradient per frame's features."""
from __future__ import annotations

import numpy as np
import pytest

from labkit import explain



def test_columns_and_rows(gru_model, clips):
    df = explain.gradient_flow(gru_model, clips)
    assert list(df.columns) == ["clip", "frame", "grad_norm"] and len(df) == 18
    assert (df["grad_norm"] >= 0).all()
    one = explain.gradient_flow(gru_model, clips[1])
    np.testing.assert_allclose(one["grad_norm"], df[df["clip"] == 1]["grad_norm"], rtol=1e-4)


def test_recurrent_gradients_fade_towards_early_frames(tiny):
    clip = np.random.default_rng(0).integers(0, 256, (24, 32, 32, 3), dtype=np.uint8)
    g = explain.gradient_flow(tiny("default", cell="rnn"), clip)["grad_norm"].to_numpy()
    assert g[-1] > 10 * g[0]


def test_frame_only_gradients_are_equal_across_frames(frame_only_model, clips):
    g = explain.gradient_flow(frame_only_model, clips[0])["grad_norm"].to_numpy()
    assert g == pytest.approx(np.full_like(g, g[0]), rel=1e-4)


def test_state_restored(gru_model, clips):
    gru_model.train()
    try:
        explain.gradient_flow(gru_model, clips[0])
        assert gru_model.training and all(p.requires_grad for p in gru_model.parameters())
        assert all(p.grad is None for p in gru_model.parameters())
    finally:
        gru_model.eval()
