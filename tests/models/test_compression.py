"""Smaller and faster: int8 dynamic quantization, permanent magnitude pruning, the table that
measures both, and exports to TorchScript / ONNX that say which clip lengths they take."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from labkit import data, models
from labkit.models.compression import count_params, prunable, size_on_disk


@pytest.fixture(scope="module")
def default_model():
    return models.preset("default", num_classes=8, img_size=32, seed=0).eval()


@pytest.fixture(scope="module")
def direction_clips():
    return data.synthetic("direction", n=48, frames=8, size=32, seed=3)


def test_quantize_keeps_the_predictions_in_under_half_the_bytes(default_model):
    before = {k: v.clone() for k, v in default_model.state_dict().items()}
    small = models.quantize(default_model)
    dynamic = torch.ao.nn.quantized.dynamic
    assert isinstance(small.rnn, dynamic.GRU) and all(isinstance(small.head[i], dynamic.Linear) for i in (0, 3))
    assert type(small.blocks[0][0]) is torch.nn.Conv2d  # convolutions stay float
    assert size_on_disk(small) <= 0.5 * size_on_disk(default_model)
    x = torch.randn(3, 8, 3, 32, 32)
    torch.testing.assert_close(small(x), default_model(x), atol=2e-2, rtol=0)
    assert all(torch.equal(before[k], v) for k, v in default_model.state_dict().items())  # a copy was quantized
    assert count_params(small)[0] == sum(p.numel() for p in default_model.parameters())


@pytest.mark.parametrize("overrides", [dict(cell="lstm", rnn_bias="single"), dict(frame_encoder="sobel"),
                                       dict(cell="attention", num_heads=2)])
def test_quantize_covers_every_cell_and_encoder(overrides):
    model = models.preset("default", num_classes=3, img_size=32, seed=0, **overrides).eval()
    small = models.quantize(model)
    clip = np.random.default_rng(0).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    np.testing.assert_allclose(small.predict_proba(clip), model.predict_proba(clip), atol=2e-2)
    assert small.device == torch.device("cpu")


def test_prune_zeroes_the_smallest_weights_of_each_tensor_for_good(default_model):
    sparse = models.prune(default_model, 0.5)
    assert sorted(sparse.state_dict()) == sorted(default_model.state_dict())  # no masks or *_orig left
    assert not any(m._forward_pre_hooks for m in sparse.modules())
    for (module, name), (orig, _) in zip(prunable(sparse), prunable(default_model)):
        w, w0 = getattr(module, name), getattr(orig, name)
        assert abs((w == 0).float().mean().item() - 0.5) < 0.01, name
        kept = w0.abs()[w != 0]
        assert kept.min() >= w0.abs()[w == 0].max() - 1e-7  # the largest magnitudes stay, unchanged
        torch.testing.assert_close(w[w != 0], w0[w != 0])
    assert count_params(sparse)[1] < 0.55 * count_params(default_model)[1]
    assert sparse.rnn._flat_weights[0].eq(0).float().mean() == pytest.approx(0.5, abs=0.01)  # what the GRU runs
    with pytest.raises(ValueError, match="amount=1.5"):
        models.prune(default_model, 1.5)


def test_the_compression_table_measures_every_step(trained_direction_model, tiny_direction):
    table = models.compression_table(trained_direction_model, tiny_direction, repeats=3)
    assert list(table["step"]) == ["float", "pruned 50%", "quantized int8", "pruned 50% + quantized int8"]
    assert table["size_ratio"].iloc[0] == 1 and (table["size_ratio"].iloc[2:] < 1).all()
    assert table["nonzero_params"].iloc[1] < 0.6 * table["nonzero_params"].iloc[0]
    assert (table["latency_ms"] > 0).all() and table["accuracy"].between(0, 1).all()
    assert abs(table["accuracy_change"].iloc[2]) <= 0.03  # int8 weights: the same decisions, nearly always


def test_an_export_says_when_it_takes_one_clip_length_only(tmp_path, direction_clips):
    clips = direction_clips.batch(range(2))[0]
    for cell, variable in (("gru", True), ("convlstm", False)):
        model = models.preset("default", num_classes=8, img_size=32, seed=0, cell=cell).eval()
        report = models.export(model, tmp_path / f"{cell}.onnx", "onnx", clips)
        assert report.variable_frames is variable and report.max_abs_diff < 1e-4
        assert (report.fixed_frames is None) == variable and ("exactly 8 frames" in report.note) != variable
        run = models.load_exported(tmp_path / f"{cell}.onnx", "onnx")
        expected = model(model.preprocess(clips)).detach().numpy()
        np.testing.assert_allclose(run(clips), expected, atol=1e-4, rtol=1e-3)


def test_export_refuses_what_it_cannot_check(tmp_path, default_model):
    with pytest.raises(ValueError, match="format='tflite'"):
        models.export(default_model, tmp_path / "m.tflite", "tflite", np.zeros((1, 4, 32, 32, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8 \\(N, T, H, W, C\\) with T >= 2"):
        models.export(default_model, tmp_path / "m.onnx", "onnx", np.zeros((1, 1, 32, 32, 3), np.uint8))
