"""attribute(): shapes, determinism, batch == one at a time, model state, memory budget, errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from labkit import explain


FAST = {"integrated_gradients": {"n_steps": 4}, "smoothgrad": {"nt_samples": 3},
        "occlusion": {"window": 16, "stride": 16, "frames": 3}}
GRU_METHODS = [m.name for m in explain.methods() if m.name != "deeplift"]


def _run(model, clips, method, **kw):
    return explain.attribute(model, clips, method=method, **{**FAST.get(method, {}), **kw})


@pytest.mark.parametrize("method", GRU_METHODS)
def test_shapes_and_frame(gru_model, clips, method):
    attr = _run(gru_model, clips, method)
    N, T, H, W, _ = clips.shape
    assert attr.maps.shape == attr.abs_maps.shape == (N, T, H, W)
    assert attr.frame_scores.shape == (N, T) and np.isfinite(attr.maps).all()
    assert (attr.abs_maps >= 0).all() and attr.method == method
    probs = gru_model.predict_proba(clips)
    np.testing.assert_array_equal(attr.predicted, probs.argmax(1))
    np.testing.assert_allclose(attr.probability, probs.max(1), rtol=1e-5)
    np.testing.assert_array_equal(attr.target, attr.predicted)  # target None: the predicted class
    df = attr.to_frame()
    assert len(df) == N * T and {"clip", "frame", "score", "target", "predicted", "probability"} <= set(df)


@pytest.mark.parametrize("method", GRU_METHODS)
def test_repeat_calls_identical_and_batch_equals_single(gru_model, clips, method):
    a = _run(gru_model, clips, method)
    b = _run(gru_model, clips, method)
    np.testing.assert_array_equal(a.maps, b.maps)
    for i in range(len(clips)):
        one = _run(gru_model, clips[i], method)
        np.testing.assert_allclose(one.maps[0], a.maps[i], rtol=1e-4, atol=1e-6 * np.abs(a.maps).max())
        np.testing.assert_allclose(one.frame_scores[0], a.frame_scores[i], rtol=1e-4,
                                   atol=1e-6 * np.abs(a.frame_scores).max())


def test_smoothgrad_leaves_the_global_rng_alone(gru_model, clips):
    state = torch.get_rng_state()
    a = _run(gru_model, clips[:1], "smoothgrad", seed=3)
    assert torch.equal(state, torch.get_rng_state())
    b = _run(gru_model, clips[:1], "smoothgrad", seed=4)
    assert not np.array_equal(a.maps, b.maps)


def test_lstm_model_and_state_restored(lstm_model, clips):
    model = lstm_model
    model.train()
    model.head[0].weight.requires_grad_(False)
    try:
        attr = _run(model, clips, "integrated_gradients")
        assert attr.maps.shape == (3, 6, 32, 32)
        assert model.training
        flags = [p.requires_grad for p in model.parameters()]
        assert flags.count(False) == 1 and not model.head[0].weight.requires_grad
        # dropout off while explaining: same maps in train mode as in eval mode
        model.eval()
        np.testing.assert_allclose(_run(model, clips, "integrated_gradients").maps, attr.maps, rtol=1e-5, atol=1e-7)
    finally:
        model.head[0].weight.requires_grad_(True)
        model.eval()


def test_integrated_gradients_completeness(gru_model, clips):
    attr = _run(gru_model, clips, "integrated_gradients", n_steps=64)
    assert attr.delta.shape == (3,)
    with torch.no_grad():
        x = gru_model.preprocess(clips)
        from labkit.explain.baselines import make_baseline
        base = make_baseline(x, "blur", gru_model.config.mean, gru_model.config.std)
        t = torch.as_tensor(attr.target)
        diff = (gru_model(x) - gru_model(base)).gather(1, t[:, None])[:, 0].numpy()
    np.testing.assert_allclose(attr.maps.sum((1, 2, 3)), diff, atol=0.05 * np.abs(diff).max() + 1e-3)


def test_memory_budget_sets_batch_sizes_not_results(gru_model, clips):
    big = _run(gru_model, clips, "integrated_gradients", n_steps=8)
    small = _run(gru_model, clips, "integrated_gradients", n_steps=8, memory_mb=0.5)
    assert small.params["internal_batch_size"] < big.params["internal_batch_size"]
    np.testing.assert_allclose(small.maps, big.maps, rtol=1e-4, atol=1e-6 * np.abs(big.maps).max())
    abl = _run(gru_model, clips, "frame_ablation", memory_mb=0.5)
    assert abl.params["perturbations_per_eval"] >= 1


def test_sixteen_frame_clip_fits_the_budget(gru_model):
    clip = np.random.default_rng(1).integers(0, 256, (16, 32, 32, 3), dtype=np.uint8)
    attr = explain.attribute(gru_model, clip, method="integrated_gradients", n_steps=32, memory_mb=4)
    from labkit.explain.core import BACKWARD_FACTOR
    rows = attr.params["internal_batch_size"]
    assert rows < 32 and attr.maps.shape == (1, 16, 32, 32)
    assert attr.params["memory_bytes"] == 4 * 1024**2 and rows >= 2
    assert BACKWARD_FACTOR >= 2


def test_target_by_index_name_and_per_clip(gru_model, clips):
    names = ["a", "b", "c"]
    by_name = _run(gru_model, clips, "saliency", target="c", classes=names)
    by_index = _run(gru_model, clips, "saliency", target=2)
    np.testing.assert_array_equal(by_name.maps, by_index.maps)
    assert list(by_name.to_frame()["target_name"].unique()) == ["c"]
    per_clip = _run(gru_model, clips, "saliency", target=[0, 1, 2])
    np.testing.assert_array_equal(per_clip.target, [0, 1, 2])


def test_frame_ablation_scores_are_logit_drops(gru_model, clips):
    attr = _run(gru_model, clips[:1], "frame_ablation", baseline="black")
    x = gru_model.preprocess(clips[:1])
    with torch.no_grad():
        full = gru_model(x)[0, attr.target[0]]
        x[:, 2] = (0 - 0.5) / 0.25
        dropped = gru_model(x)[0, attr.target[0]]
    assert attr.frame_scores[0, 2] == pytest.approx(float(full - dropped), rel=1e-4, abs=1e-6)


def test_grad_cam_block_choice(gru_model, clips):
    first = _run(gru_model, clips, "grad_cam", block=0)
    assert first.params["layer"] == "blocks.0"
    assert _run(gru_model, clips, "grad_cam").params["layer"] == "blocks.1"
    with pytest.raises(ValueError, match="out of range"):
        _run(gru_model, clips, "grad_cam", block=5)


def test_deeplift_on_frame_only_and_refused_on_recurrent(frame_only_model, gru_model, lstm_model, clips):
    attr = explain.attribute(frame_only_model, clips, method="deeplift")
    assert attr.maps.shape == (3, 6, 32, 32) and attr.delta.shape == (3,)
    for model, cell in ((gru_model, "GRU"), (lstm_model, "LSTM")):
        with pytest.raises(ValueError, match=f"nn.{cell}.*integrated_gradients"):
            explain.attribute(model, clips, method="deeplift")


@pytest.mark.parametrize("bad, match", [
    (lambda c: c[0, 0], "got shape"),
    (lambda c: c.astype(np.float32) / 255, "uint8"),
    (lambda c: c.transpose(0, 1, 4, 2, 3).copy(), "channels first"),
    (lambda c: c[:, :, :16, :16], None),
])
def test_bad_clips(gru_model, lstm_model, clips, bad, match):
    if match is None:  # a flatten-readout model needs its own frame size
        with pytest.raises(ValueError, match="32x32"):
            explain.attribute(lstm_model, bad(clips), method="saliency")
        return
    with pytest.raises(ValueError, match=match):
        explain.attribute(gru_model, bad(clips), method="saliency")


def test_too_many_frames(tiny):
    model = tiny("default", max_frames=4)
    clip = np.zeros((6, 32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="max_frames=4"):
        explain.attribute(model, clip, method="saliency")


@pytest.mark.parametrize("target, match", [("cat", "no class names"), (3, "out of range"), (-1, "out of range"),
                                           ([0, 1], "one per clip"), (1.5, "class index")])
def test_bad_targets(gru_model, clips, target, match):
    with pytest.raises(ValueError, match=match):
        explain.attribute(gru_model, clips, target=target, method="saliency")
    with pytest.raises(ValueError, match="unknown target class 'cat'"):
        explain.attribute(gru_model, clips, target="cat", method="saliency", classes=["a", "b", "c"])


def test_unknown_method(gru_model, clips):
    with pytest.raises(ValueError, match="unknown attribution method 'lime'"):
        explain.attribute(gru_model, clips, method="lime")


def test_completeness_table_and_note(gru_model, clips):
    """The logit difference in the table is the model's own F(clip) - F(baseline); a coarse
    path says so and names the fix; methods without a delta have no table."""
    fine = _run(gru_model, clips, "integrated_gradients", n_steps=64)
    table = fine.completeness()
    assert list(table.columns) == ["clip", "attribution_sum", "logit_difference", "delta", "relative_error"]
    with torch.no_grad():
        from labkit.explain.baselines import make_baseline
        x = gru_model.preprocess(clips)
        base = make_baseline(x, "blur", gru_model.config.mean, gru_model.config.std)
        t = torch.as_tensor(fine.target)[:, None]
        diff = (gru_model(x).gather(1, t) - gru_model(base).gather(1, t))[:, 0].numpy()
    np.testing.assert_allclose(table["logit_difference"], diff, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(table["attribution_sum"] - table["delta"], table["logit_difference"])
    assert "% apart" in fine.completeness_note(0)
    coarse = _run(gru_model, clips, "integrated_gradients", n_steps=2)
    worst = int(coarse.completeness()["relative_error"].idxmax())
    assert coarse.completeness()["relative_error"].max() > 0.05  # two points cannot follow this path
    assert coarse.completeness_note(worst).endswith("the approximation is coarse (raise n_steps)")
    assert (np.nanmedian(coarse.completeness()["relative_error"])
            >= np.nanmedian(table["relative_error"]))
    assert _run(gru_model, clips, "saliency").completeness() is None
    assert _run(gru_model, clips, "saliency").completeness_note() == ""
