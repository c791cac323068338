"""Every attribution method that applies explains every temporal model; the others say why not."""
from __future__ import annotations

import contextlib
import warnings

import captum.attr as ca
import numpy as np
import pytest
import torch

from labkit import explain
from labkit.explain import core
from labkit.explain.randomization import cascade
from labkit.explain.registry import Logits, get

NEW_CELLS = ("tcn", "attention", "convlstm")
FAST = {"integrated_gradients": {"n_steps": 4}, "smoothgrad": {"nt_samples": 2},
        "occlusion": {"window": 16, "stride": 16, "frames": 3}}


@pytest.fixture(scope="module")
def cell_models(tiny):
    """A seeded, untrained tiny model per new cell (3 classes, 32 x 32 frames)."""
    return {cell: tiny("default", cell=cell, num_heads=2) for cell in NEW_CELLS}


@pytest.mark.parametrize("method", [m.name for m in explain.methods()])
@pytest.mark.parametrize("cell", NEW_CELLS)
def test_every_method_explains_every_cell_or_says_why_not(cell_models, clips, cell, method):
    model = cell_models[cell]
    why = get(method).applies(model)
    if why is not None:
        assert method == "deeplift" and cell != "tcn"
        with pytest.raises(ValueError, match="integrated_gradients"):
            explain.attribute(model, clips, method=method)
        return
    attr = explain.attribute(model, clips, method=method, **FAST.get(method, {}))
    N, T, H, W, _ = clips.shape
    assert attr.maps.shape == (N, T, H, W) and attr.frame_scores.shape == (N, T)
    assert np.isfinite(attr.maps).all() and np.isfinite(attr.frame_scores).all()
    np.testing.assert_array_equal(attr.predicted, model.predict_proba(clips).argmax(1))


@pytest.mark.parametrize("cell, words", [("attention", "attention's query-key products"),
                                         ("convlstm", "ConvLSTM's gates"), ("gru", "nn.GRU"), ("lstm", "nn.LSTM")])
def test_deeplift_names_what_its_rules_cannot_reach(tiny, cell, words):
    reason = get("deeplift").applies(tiny("default", cell=cell, num_heads=2))
    assert words in reason and "integrated_gradients" in reason
    assert get("deeplift").applies(tiny("default", cell="tcn")) is None
    assert get("integrated_gradients").applies(tiny("default", cell="convlstm")) is None


def test_deeplift_reaches_every_non_linearity_of_a_tcn(tiny):
    """Completeness is DeepLift's own check: with a rule at every non-linearity the attributions
    sum to F(x) - F(baseline) exactly (here in float64; gap readout, whose mean is linear)."""
    model = tiny("default", cell="tcn", num_layers=3, frame_readout="gap").double()
    x = torch.randn(2, 8, 3, 32, 32, dtype=torch.double, generator=torch.Generator().manual_seed(0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, delta = ca.DeepLift(Logits(model)).attribute(x.requires_grad_(), baselines=torch.zeros_like(x), target=1,
                                                        return_convergence_delta=True)
    with torch.no_grad():
        diff = model(x)[:, 1] - model(torch.zeros_like(x))[:, 1]
    assert diff.abs().min() > 1e-3 and delta.abs().max() < 1e-12


def test_grad_cam_needs_a_conv_block(tiny, clips):
    model = tiny("default", cell="tcn", conv_channels=(), frame_readout="gap")
    assert "conv_channels=()" in get("grad_cam").applies(model)
    with pytest.raises(ValueError, match="grad_cam: .*has none"):
        explain.attribute(model, clips, method="grad_cam")


def test_randomisation_reinitialises_the_temporal_module_by_name(cell_models, clips):
    for cell, model in cell_models.items():
        assert cascade(model) == ["head", cell, "blocks.1", "blocks.0"]
    table = explain.randomization_check(cell_models["attention"], clips[:1], "saliency")
    assert list(table["layer"]) == ["original", "head", "attention", "blocks.1", "blocks.0"]
    assert np.isfinite(table["spearman"]).all()


@pytest.mark.parametrize("cell, cudnn_off", [("gru", True), ("lstm", True), ("tcn", False), ("attention", False),
                                             ("convlstm", False), ("none", False)])
def test_cudnn_is_switched_off_only_around_pytorch_recurrent_layers(tiny, monkeypatch, cell, cudnn_off):
    calls = []

    @contextlib.contextmanager
    def flags(**kw):
        calls.append(kw)
        yield

    monkeypatch.setattr(core.torch.backends.cudnn, "flags", flags)
    with core.explaining(tiny("default", cell=cell, num_heads=2)):
        pass
    assert calls == ([{"enabled": False}] if cudnn_off else [])


@pytest.mark.parametrize("cell", NEW_CELLS)
def test_gradient_flow_reaches_the_frames_each_cell_sees(cell_models, clips, cell):
    g = explain.gradient_flow(cell_models[cell], clips[0])["grad_norm"].to_numpy()
    assert g.shape == (6,) and np.isfinite(g).all()
    # one TCN block of kernel 3 read at the last frame sees the last 3 frames; the others see all
    seen = [False] * 3 + [True] * 3 if cell == "tcn" else [True] * 6
    assert (g > 0).tolist() == seen


def test_convlstm_clips_must_have_the_model_s_frame_size(cell_models, clips):
    with pytest.raises(ValueError, match="cell='convlstm'.*32x32"):
        explain.attribute(cell_models["convlstm"], clips[:, :, :16, :16], method="saliency")
