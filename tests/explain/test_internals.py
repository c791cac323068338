"""explain.look_inside and its parts: conv maps, keypoints, and states and gates recomputed from
a recurrent layer's weights (compared with what nn.LSTM / nn.GRU / nn.RNN themselves return)."""
import numpy as np
import pytest
import torch
import torch.nn as nn

from labkit import explain, models
from labkit.explain import internals
from labkit.models.sequence_layers import ConvLSTM
from labkit.models.stages import FrameReadout

T, F, H = 7, 5, 6


@pytest.fixture
def feats():
    return torch.randn(T, F, generator=torch.Generator().manual_seed(0))


def _layer(kind, **kw):
    torch.manual_seed(0)
    return {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind](F, H, batch_first=True, **kw).eval()


def _hidden_of_last_layer(series, layers=1, dirs=1):
    """The last layer's hidden state series (forward [, backward]) side by side: (T, dirs*H)."""
    names = [s.name for s in series if s.name.endswith("hidden state h")][-dirs:]
    return np.concatenate([dict((s.name, s.values) for s in series)[n] for n in names], axis=1)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("shape", [dict(), dict(num_layers=2, bidirectional=True)], ids=["1 layer", "2x2"])
def test_hidden_states_equal_the_fused_layer(kind, shape, feats):
    rnn = _layer(kind, **shape)
    with torch.no_grad():
        expected, _ = rnn(feats[None])  # (1, T, dirs*H)
        series = internals.recurrent_series(rnn, feats)
    dirs = 2 if shape.get("bidirectional") else 1
    np.testing.assert_allclose(_hidden_of_last_layer(series, dirs=dirs), expected[0].numpy(), atol=1e-5)
    names = [s.name for s in series]
    per_direction = {"lstm": 6, "gru": 4, "rnn": 1}[kind]
    assert len(names) == len(set(names)) == per_direction * dirs * shape.get("num_layers", 1)
    if shape:
        assert "layer 2 backward · hidden state h" in names


def test_relu_rnn_and_a_layer_without_bias(feats):
    for rnn in (_layer("rnn", nonlinearity="relu"), _layer("gru", bias=False)):
        with torch.no_grad():
            expected, _ = rnn(feats[None])
            got = _hidden_of_last_layer(internals.recurrent_series(rnn, feats))
        np.testing.assert_allclose(got, expected[0].numpy(), atol=1e-5)


def test_lstm_gates_are_those_of_the_layers_own_states(feats):
    """Each gate recomputed independently from nn.LSTM's own outputs h_{t-1} and cell c: sigma(W x + U h + b)."""
    rnn = _layer("lstm")
    with torch.no_grad():
        h_seq, (_, c_n) = rnn(feats[None])
        s = {x.name: torch.as_tensor(x.values) for x in internals.recurrent_series(rnn, feats)}
        h_prev = torch.cat([torch.zeros(1, H), h_seq[0, :-1]])  # (T, H)
        pre = feats @ rnn.weight_ih_l0.T + rnn.bias_ih_l0 + h_prev @ rnn.weight_hh_l0.T + rnn.bias_hh_l0
    i, f, g, o = pre.chunk(4, dim=1)
    for name, want in (("input gate i", i.sigmoid()), ("forget gate f", f.sigmoid()),
                       ("cell input g", g.tanh()), ("output gate o", o.sigmoid())):
        np.testing.assert_allclose(s[name], want, atol=1e-5, err_msg=name)
    np.testing.assert_allclose(s["cell state c"][-1], c_n[0, 0], atol=1e-5)
    assert s["forget gate f"].min() >= 0 and s["forget gate f"].max() <= 1


def test_gru_gates_are_those_of_the_layers_own_states(feats):
    rnn = _layer("gru")
    with torch.no_grad():
        h_seq, _ = rnn(feats[None])
        s = {x.name: torch.as_tensor(x.values) for x in internals.recurrent_series(rnn, feats)}
        h_prev = torch.cat([torch.zeros(1, H), h_seq[0, :-1]])
        xr, xz, xn = (feats @ rnn.weight_ih_l0.T + rnn.bias_ih_l0).chunk(3, dim=1)
        hr, hz, hn = (h_prev @ rnn.weight_hh_l0.T + rnn.bias_hh_l0).chunk(3, dim=1)
    r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
    np.testing.assert_allclose(s["reset gate r"], r, atol=1e-5)
    np.testing.assert_allclose(s["update gate z"], z, atol=1e-5)
    np.testing.assert_allclose(s["candidate n"], (xn + r * hn).tanh(), atol=1e-5)


@pytest.mark.parametrize("cell, bias", [("lstm", "single"), ("gru", "single"), ("gru", "double")])
def test_labkits_own_recurrent_layers(tiny, cell, bias, clips):
    """The DCRN's layers (single bias: b_hh a fixed zero buffer; LSTM forget bias 1) read the same way."""
    model = tiny("default", cell=cell, rnn_bias=bias, num_layers=2)
    with torch.no_grad():
        feats = model.encode_frames(model.preprocess(clips[0]))[0]  # (T, F)
        expected, _ = model.rnn(feats[None])
    got = _hidden_of_last_layer(explain.look_inside(model, clips[0]).temporal)
    np.testing.assert_allclose(got, expected[0].numpy(), atol=1e-5)


def test_convlstm_states_equal_the_module(feats):
    torch.manual_seed(0)
    conv = ConvLSTM((3, 4, 4), hidden=5, kernel=3, layers=2, hidden_bias=True, drop=0.0,
                    readout=FrameReadout("gap")).eval()
    maps = torch.randn(T, 3, 4, 4)
    with torch.no_grad():
        expected = conv(maps[None])[0]  # (T, 5, 4, 4)
        series = internals.convlstm_series(conv, maps)
        h, c, *_ = internals.lstm_steps(conv.cells[0].x(maps), lambda h: conv.cells[0].h(h[None])[0])
        first = conv.cells[0](maps[None])[0]
    np.testing.assert_allclose(h, first, atol=1e-5)  # the LSTM step on whole maps: the cell's own output
    top = dict((s.name, s.values) for s in series)["layer 2 · hidden state h (mean over the map)"]
    np.testing.assert_allclose(top, expected.mean((2, 3)).numpy(), atol=1e-5)


def test_tcn_and_attention_show_their_per_frame_outputs(tiny, clips):
    for cell, last in (("tcn", "layer 2 · block output"), ("attention", "output (layer norm)")):
        model = tiny("default", cell=cell, num_layers=2, num_heads=2)
        with torch.no_grad():
            feats = model.encode_frames(model.preprocess(clips[0]))  # (1, T, F)
            module = model.temporal_module
            expected = module(feats.transpose(1, 2)).transpose(1, 2) if cell == "tcn" else module(feats)
        inside = explain.look_inside(model, clips[0])
        np.testing.assert_allclose(inside.series(last).values, expected[0].numpy(), atol=1e-5)
    weights = inside.series("layer 1 · attention weights").values  # (T, T), rows sum to 1
    assert weights.shape == (6, 6) and np.allclose(weights.sum(1), 1, atol=1e-5)
    with pytest.raises(KeyError, match="no series"):
        inside.series("nothing")


def test_look_inside_a_keypoints_model(tiny, clips):
    model = tiny("default").train()  # look_inside runs in eval mode and leaves the flag as it was
    inside = explain.look_inside(model, clips[1])
    assert model.training
    summary = models.summary(model.config, frames=6, size=32).table
    blocks = summary[summary.layer.str.match(r"blocks\.\d+\.\d+$")].groupby(
        summary.layer.str.extract(r"(blocks\.\d+)")[0], sort=True).output_shape.last()
    assert inside.block_names == list(blocks.index)
    assert [m.shape for m in inside.block_maps] == [tuple(s[1:]) for s in blocks]  # (T, C, h, w) per block
    with torch.no_grad():
        model.eval()
        vectors = model.encode_frames(model.preprocess(clips[1]))[0].numpy()  # (T, 3C): x, y, strength
    k = inside.keypoints
    np.testing.assert_allclose(np.concatenate([k.x, k.y, k.strength], axis=1), vectors, atol=1e-5)
    np.testing.assert_allclose(inside.series("frame vectors (input)").values, vectors, atol=1e-6)
    np.testing.assert_allclose(inside.probabilities, model.predict_proba(clips[1])[0], atol=1e-5)
    assert inside.frames == 6 and inside.cell == "gru" and not inside.notes


def test_keypoints_in_pixels_put_the_centre_cell_at_the_frame_centre():
    k = explain.Keypoints(x=np.zeros((1, 1)), y=np.array([[-1.5]]), strength=np.ones((1, 1)), map_shape=(4, 4))
    x, y = k.in_pixels((32, 32))
    assert x[0, 0] == pytest.approx(15.5) and y[0, 0] == pytest.approx(3.5)  # row 0 of 4: pixels 0..7


def test_flatten_and_frame_only_models(tiny, clips):
    seed = explain.look_inside(tiny("seed", conv_channels=(8,)), clips[0])  # flatten: 15*15*8 numbers a frame
    assert seed.keypoints is None and "left out" in seed.notes[0]
    assert [s.name for s in seed.temporal][0] == "hidden state h"
    frame_only = explain.look_inside(tiny("frame-only"), clips[0])
    assert [s.name for s in frame_only.temporal] == ["frame vectors (input)"]
    assert "mean over time" in frame_only.temporal[0].help


def test_a_clip_the_model_cannot_take_names_the_fix(tiny, clips):
    with pytest.raises(ValueError, match="resize the data"):
        explain.look_inside(tiny("seed", conv_channels=(4,), size=64), clips[0])
