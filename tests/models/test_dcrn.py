"""DCRN: the fast block computes the plain block's math, padding never changes a prediction,
hidden states follow the batch, raw clips in -> probabilities out."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from labkit.models import DCRN, DCRNConfig, preset_config
from labkit.models.stages import ConvBlock, keypoints

K, SIZE = 4, 16


def _cfg(**kw) -> DCRNConfig:
    return DCRNConfig(**{**dict(num_classes=K, img_size=SIZE, conv_channels=(4, 6), hidden_size=8,
                                head_hidden=8), **kw})


def _model(**kw) -> DCRN:
    torch.manual_seed(0)
    return DCRN(_cfg(**kw)).double().eval()


@pytest.mark.parametrize("activation", ["relu", "elu", "tanh", "gelu"])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_pool_first_block_equals_conv_act_pool(activation, batch_norm):
    torch.manual_seed(0)
    block = ConvBlock(3, 5, _cfg(activation=activation, batch_norm=batch_norm)).double().train()
    assert block.pool_first == (activation != "gelu")
    x = torch.randn(6, 3, SIZE, SIZE, dtype=torch.double, requires_grad=True)
    plain = x
    for layer in block:  # the written order: conv -> [bn] -> act -> pool
        plain = layer(plain)
    fast = block(x)
    assert fast.shape == plain.shape
    torch.testing.assert_close(fast, plain)
    g = torch.randn_like(fast)
    grads_plain = torch.autograd.grad(plain, [x, *block.parameters()], g)
    grads_fast = torch.autograd.grad(fast, [x, *block.parameters()], g)
    for a, b in zip(grads_fast, grads_plain):
        torch.testing.assert_close(a, b)


def test_seed_frame_features_are_keras_flatten_of_conv_relu_pool():
    model = DCRN(preset_config("seed", img_size=SIZE)).eval()
    x = torch.randn(2, 3, 3, SIZE, SIZE)
    conv = model.blocks[0][0]
    ref = F.max_pool2d(F.relu(conv(x.flatten(0, 1))), 2)  # (6, 32, 7, 7)
    ref = ref.permute(0, 2, 3, 1).reshape(2, 3, -1)  # Keras Flatten of a channels-last map: (H, W, C)
    torch.testing.assert_close(model.encode_frames(x), ref, rtol=1e-5, atol=1e-5)
    # a contiguous (channels-first) input gives the same features as the channels-last one
    torch.testing.assert_close(model.encode_frames(x.contiguous()), model.encode_frames(
        x.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3)))


VARIANTS = [dict(cell=c, bidirectional=b, temporal_readout=r)
            for c in ("lstm", "gru", "rnn") for b in (False, True) for r in ("last", "mean")]
VARIANTS += [dict(cell="none"), dict(cell="gru", num_layers=2, frame_readout="gap", batch_norm=True),
             dict(cell="gru", frame_readout="keypoints", stem_stride=2, padding=1)]
VARIANTS += [dict(cell=c, temporal_readout=r) for c in ("tcn", "attention", "convlstm") for r in ("last", "mean")]
VARIANTS += [dict(cell="tcn", num_layers=3, temporal_kernel=2, frame_readout="gap"),
             dict(cell="attention", num_layers=2, num_heads=2, frame_readout="keypoints"),
             dict(cell="convlstm", num_layers=2, rnn_bias="double", frame_readout="keypoints"),
             dict(cell="convlstm", frame_readout="gap", temporal_kernel=5, batch_norm=True)]


@pytest.mark.parametrize("kw", VARIANTS, ids=lambda kw: "-".join(f"{v}" for v in kw.values()))
def test_padding_never_changes_a_prediction(kw):
    model = _model(**kw)
    T, lengths = 7, [3, 7, 1]
    gen = torch.Generator().manual_seed(1)
    clips = [torch.randn(1, L, 3, SIZE, SIZE, generator=gen, dtype=torch.double) for L in lengths]
    alone = torch.cat([model(c) for c in clips])  # each clip on its own, no padding, no lengths
    garbage = 1e3 * torch.randn(len(lengths), T, 3, SIZE, SIZE, generator=gen, dtype=torch.double)
    padded = garbage.clone()
    for i, c in enumerate(clips):
        padded[i, :lengths[i]] = c[0]
    batched = model(padded, torch.tensor(lengths))
    torch.testing.assert_close(batched, alone)
    # lengths == T for everyone is the same as no lengths
    full = torch.randn(2, 4, 3, SIZE, SIZE, dtype=torch.double)
    torch.testing.assert_close(model(full, torch.tensor([4, 4])), model(full))
    with torch.no_grad():  # inference mode too (where PyTorch's own layers take fused fast paths)
        torch.testing.assert_close(model(padded, torch.tensor(lengths)), alone)


@pytest.mark.parametrize("lengths", [[0, 3], [3, 5]])
def test_lengths_outside_the_clip_are_refused(lengths):
    with pytest.raises(ValueError, match=r"lengths must lie in 1\.\.4"):
        _model(cell="tcn")(torch.randn(2, 4, 3, SIZE, SIZE, dtype=torch.double), torch.tensor(lengths))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn", "tcn", "attention", "convlstm", "none"])
def test_hidden_state_follows_the_batch(cell):
    model = _model(cell=cell)
    for b in (1, 3, 7):  # Captum expands the batch; nothing may be sized at construction
        x = torch.randn(b, 5, 3, SIZE, SIZE, dtype=torch.double)
        assert model(x).shape == (b, K)
        assert model.forward_features(x).shape == (b, model.feature_dim)
        assert model.encode_frames(x).shape == (b, 5, model.frame_dim)


def test_predict_proba_takes_raw_clips_and_restores_the_mode():
    model = DCRN(_cfg())
    model.train()
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, size=(5, 6, SIZE, SIZE, 3), dtype=np.uint8)
    probs = model.predict_proba(batch, batch_size=2)
    assert probs.shape == (5, K) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert model.training  # the mode it was in
    one = model.predict_proba(batch[1])
    assert one.shape == (1, K) and np.allclose(one[0], probs[1], atol=1e-6)
    assert np.allclose(model.predict_proba(torch.from_numpy(batch)), probs, atol=1e-6)
    # lengths: the valid prefix alone gives the same probabilities
    short = model.predict_proba(batch, lengths=[3, 6, 2, 6, 1])
    assert np.allclose(short[0], model.predict_proba(batch[0, :3])[0], atol=1e-5)


def test_preprocess_shapes_and_errors():
    model = DCRN(_cfg())
    x = model.preprocess(np.zeros((2, 5, SIZE, SIZE, 3), np.uint8))
    assert x.shape == (2, 5, 3, SIZE, SIZE) and x.dtype == torch.float32
    assert torch.allclose(x, torch.full_like(x, -2.0))  # (0 - 0.5) / 0.25
    assert model.preprocess(np.zeros((5, SIZE, SIZE, 3), np.uint8)).shape == (1, 5, 3, SIZE, SIZE)
    with pytest.raises(ValueError, match=r"\(T, H, W, C\)"):
        model.preprocess(np.zeros((SIZE, SIZE, 3), np.uint8))


def test_keypoints_find_where_a_channel_fires():
    f = torch.zeros(2, 3, 5, 8)
    f[0, 0, 4, 7] = 20.0  # bottom-right corner
    f[1, 2, 0, 0] = 20.0  # top-left corner
    k = keypoints(f)  # (N, 3C): x (C), y (C), mean (C)
    assert k.shape == (2, 9)
    # coordinates in cells from the map's centre: x in [-3.5, 3.5] (W=8), y in [-2, 2] (H=5)
    torch.testing.assert_close(k[0, [0, 3]], torch.tensor([3.5, 2.0]), atol=1e-4, rtol=0)
    torch.testing.assert_close(k[1, [2, 5]], torch.tensor([-3.5, -2.0]), atol=1e-4, rtol=0)
    torch.testing.assert_close(k[0, 1:3], torch.zeros(2))  # a flat channel sits in the middle
    torch.testing.assert_close(k[0, 6], torch.tensor(20.0 / 40))


def test_max_frames_is_enforced():
    model = DCRN(_cfg(max_frames=4))
    model(torch.randn(1, 4, 3, SIZE, SIZE))
    with pytest.raises(ValueError, match="max_frames=4"):
        model(torch.randn(1, 5, 3, SIZE, SIZE))


@pytest.mark.parametrize("cell", ["lstm", "tcn", "attention", "convlstm"])
def test_bf16_autocast_runs(cell):
    model = DCRN(_cfg(cell=cell))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(torch.randn(2, 3, 3, SIZE, SIZE), torch.tensor([3, 2]))
    assert out.shape == (2, K) and torch.isfinite(out.float()).all()
