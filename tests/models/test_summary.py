"""summary(): analytic shapes, parameters and FLOPs agree with real models and with hand counts."""
import time

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from labkit.models import DCRN, DCRNConfig, preset_config, summary, training_flops

# small configs covering every branch the summary has (cells, directions, layers, biases, readouts)
CONFIGS = [
    dict(),
    dict(cell="gru", bidirectional=True, num_layers=2, rnn_bias="double", temporal_readout="mean"),
    dict(cell="rnn", batch_norm=True, padding=1, conv_channels=(4, 6), frame_readout="gap", head_hidden=0),
    dict(cell="none", activation="gelu", pool=1, conv_channels=(3,)),
    dict(conv_channels=(), cell="lstm", num_layers=2, bidirectional=True),
    dict(conv_channels=(4, 6), stem_stride=2, padding=1, frame_readout="keypoints", cell="gru"),
    dict(cell="tcn"),
    dict(cell="tcn", num_layers=3, temporal_kernel=2, temporal_readout="mean", frame_readout="gap"),
    dict(cell="attention", num_heads=2, num_layers=2),
    dict(cell="attention", num_heads=8, temporal_readout="mean", frame_readout="keypoints", head_hidden=0),
    dict(cell="convlstm"),
    dict(cell="convlstm", num_layers=2, rnn_bias="double", temporal_kernel=1, frame_readout="keypoints",
         temporal_readout="mean"),
    dict(cell="convlstm", conv_channels=(), frame_readout="gap", temporal_kernel=5),
]
TEMPORAL_ROWS = ("tcn.", "attention.", "convlstm.")  # rows of modules written as visible ops


def _small(**kw):
    return DCRNConfig(**{**dict(num_classes=5, img_size=16, conv_channels=(4,), hidden_size=8, head_hidden=12), **kw})


def test_seed_matches_the_keras_reference_layer_by_layer():
    s = summary(preset_config("seed", num_classes=10), frames=16, size=64)
    t = s.table.set_index("layer")
    assert s.totals["params"] == s.totals["trainable_params"] == 7_894_858
    assert t.loc["blocks.0.0", "params"] == 896  # Conv2D(32, 3x3): 3*3*3*32 + 32
    assert t.loc["blocks.0.0", "output_shape"] == (1, 16, 32, 62, 62)
    assert t.loc["blocks.0.2", "output_shape"] == (1, 16, 32, 31, 31)  # MaxPool 2x2
    assert t.loc["frame_readout", "output_shape"] == (1, 16, 30752)  # Flatten: 31*31*32
    assert t.loc["rnn", "params"] == 7_889_152  # LSTM(64): 4*64*(30752 + 64) + 4*64
    assert t.loc["rnn", "output_shape"] == (1, 16, 64)
    assert t.loc["head.0", "params"] == 4_160  # Dense(64, relu)
    assert t.loc["head.3", "params"] == 650  # Dense(10)
    assert t.loc["head.3", "output_shape"] == (1, 10)
    assert sum(p.numel() for p in DCRN(preset_config("seed", num_classes=10)).parameters()) == 7_894_858


@pytest.mark.parametrize("kw", CONFIGS)
def test_params_and_shapes_match_a_real_model(kw):
    cfg = _small(**kw)
    model = DCRN(cfg).eval()
    s = summary(cfg, frames=3, batch=2)
    assert s.totals["params"] == sum(p.numel() for p in model.parameters())
    shapes = {}
    hooks = [m.register_forward_hook(lambda mod, i, o, name=name: shapes.__setitem__(name, tuple(o.shape)))
             for name, m in model.named_modules() if name.startswith("blocks.") and name.count(".") == 2]
    out = model(torch.randn(2, 3, 3, 16, 16))
    for h in hooks:
        h.remove()
    t = s.table.set_index("layer")
    for name, shape in shapes.items():  # hooks see folded (B*T, C, H, W); the table shows (B, T, C, H, W)
        if t.loc[name, "type"] in cfg.activation and shape != (6, *t.loc[name, "output_shape"][2:]):
            continue  # a pool-first block runs the activation on the pooled map (checked in test_dcrn)
        assert (6, *t.loc[name, "output_shape"][2:]) == shape, name
    assert t.loc["frame_readout", "output_shape"] == (2, 3, model.frame_dim)
    assert s.totals["feature_dim"] == model.feature_dim
    assert s.table["output_shape"].iloc[-1] == tuple(out.shape)


@pytest.mark.parametrize("kw", CONFIGS)
def test_conv_and_linear_flops_match_torch_flop_counter(kw):
    cfg = _small(**kw)
    model = DCRN(cfg).eval()
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(2, 3, 3, 16, 16))
    counts = counter.get_flop_counts()
    t = summary(cfg, frames=3, batch=2).table.set_index("layer")
    for name in t.index:
        if name.startswith(("blocks.", "head.", *TEMPORAL_ROWS)) and t.loc[name, "matmul_flops"]:
            assert sum(counts[f"DCRN.{name}"].values()) == t.loc[name, "matmul_flops"], name
    # the counter sees nothing inside nn.LSTM (one fused op): that is why the summary counts
    # recurrent layers itself; where a cell decomposes into matmuls the two counts agree exactly
    if cfg.cell in ("rnn", "lstm", "gru"):
        seen = sum(counts.get("DCRN.rnn", {}).values())
        assert seen in (0, t.loc["rnn", "matmul_flops"])
        assert cfg.cell != "lstm" or seen == 0


def test_recurrent_flops_match_a_hand_count():
    # seed LSTM, one clip of 16 frames: in = 30752, H = 64, 4 gates, single bias
    t = summary(preset_config("seed"), frames=16).table.set_index("layer")
    per_step_matmul = 2 * 4 * 64 * (30752 + 64)  # W_ih x and W_hh h, 2 FLOPs per multiply-add
    per_step_elementwise = (
        4 * 64 * 2  # gate pre-activations: (W_ih x) + (W_hh h) + b
        + 4 * 64  # sigmoid/tanh on every gate value
        + 3 * 64  # c = f*c + i*g
        + 2 * 64  # h = o * tanh(c)
    )
    assert t.loc["rnn", "matmul_flops"] == 16 * per_step_matmul == 252_444_672
    assert t.loc["rnn", "flops"] == 16 * (per_step_matmul + per_step_elementwise)
    # GRU, 2 layers, bidirectional, double bias, 5 frames: in 10 -> 8 per direction, layer 2 sees 16
    cfg = _small(conv_channels=(), img_size=2, in_chans=1, mean=(0.5,), std=(0.2,), frame_readout="flatten")
    cfg = cfg.replace(cell="gru", hidden_size=8, num_layers=2, bidirectional=True, rnn_bias="double")
    t = summary(cfg, frames=5).table.set_index("layer")
    layer1 = 2 * 3 * 8 * (4 + 8)  # frame_dim = 1*2*2 = 4
    layer2 = 2 * 3 * 8 * (16 + 8)
    assert t.loc["rnn", "matmul_flops"] == 5 * 2 * (layer1 + layer2)
    gru_elementwise = 3 * 8 * 3 + 3 * 8 + 6 * 8  # adds of x-part, h-part, 2 biases; gate activations; cell
    assert t.loc["rnn", "flops"] - t.loc["rnn", "matmul_flops"] == 5 * 2 * 2 * gru_elementwise


def test_new_cells_elementwise_flops_match_a_hand_count():
    """The attention and ConvLSTM conventions of stages.py, written out for one small case each."""
    T, D, heads, F = 5, 8, 2, 4  # 5 frames of 4 features (2x2 pixels, 1 channel, no conv)
    base = _small(conv_channels=(), img_size=2, in_chans=1, mean=(0.5,), std=(0.2,), hidden_size=D)
    t = summary(base.replace(cell="attention", num_heads=heads), frames=T).table.set_index("layer")
    layer = t.loc["attention.layers.0"]
    assert layer["params"] == 2 * 2 * D + (3 * D * D + 3 * D) + (D * D + D) + (D * 4 * D + 4 * D) + (4 * D * D + D)
    assert layer["matmul_flops"] == 2 * T * D * (3 * D + D + 4 * D + 4 * D) + 2 * 2 * T * T * D
    norms, biases, gelu, residuals = 2 * 6 * T * D, T * (3 * D + D + 4 * D + D), T * 4 * D, 2 * T * D
    assert layer["flops"] - layer["matmul_flops"] == norms + biases + gelu + residuals + 4 * heads * T * T
    assert t.loc["attention.proj", "matmul_flops"] == 2 * T * F * D
    # ConvLSTM, hidden 3, kernel 3 on the 2x2 map of 1 channel, single bias: the LSTM per map cell
    t = summary(base.replace(cell="convlstm", hidden_size=3), frames=T).table.set_index("layer")
    cell = t.loc["convlstm.cells.0"]
    assert cell["params"] == 4 * 3 * 9 * (1 + 3) + 4 * 3
    assert cell["matmul_flops"] == T * 4 * 2 * 4 * 3 * 9 * (1 + 3)  # frames x cells x 2 x gates x taps
    assert cell["flops"] - cell["matmul_flops"] == T * 4 * (4 * 3 * 2 + 4 * 3 + 5 * 3)
    assert t.loc["convlstm.readout", "output_shape"] == (1, 2 * 2 * 3)  # flatten of the 3 x 2 x 2 hidden map


def test_tcn_rows_state_the_receptive_field_that_gradients_show():
    cfg = _small(cell="tcn", num_layers=3, temporal_kernel=3, conv_channels=(), frame_readout="gap", img_size=4)
    t = summary(cfg, frames=20).table.set_index("layer")
    assert [t.loc[f"tcn.{i}", "type"].endswith(f"sees {n} frames") for i, n in enumerate((3, 7, 15))] == [True] * 3
    model = DCRN(cfg).double().eval()
    feats = torch.randn(1, 20, model.frame_dim, dtype=torch.double, requires_grad=True)
    model.temporal(feats).sum().backward()
    reached = feats.grad[0].abs().sum(1) > 0  # (T,): frames the last frame's features depend on
    assert reached.tolist() == [False] * 5 + [True] * 15


def test_training_flops_convention():
    cfg = preset_config("seed")
    s = summary(cfg, frames=16, size=64, batch=32)
    t = s.table
    matmul, elementwise = t["matmul_flops"].sum(), (t["flops"] - t["matmul_flops"]).sum()
    first_conv = t.set_index("layer").loc["blocks.0.0", "matmul_flops"]
    expected = 3 * matmul - first_conv + 2 * elementwise
    assert training_flops(cfg, batch=32, frames=16, size=64) == s.totals["training_flops"] == expected
    assert 30e9 < expected < 32e9  # the "about 31 GFLOP" seed step
    assert s.totals["flops"] == 32 * summary(cfg).totals["flops"]


def test_summary_accepts_a_model_and_a_new_size():
    model = DCRN(_small())
    assert summary(model).totals == summary(model.config).totals
    assert summary(model.config, size=20).table["output_shape"].iloc[0] == (1, 16, 4, 18, 18)
    with pytest.raises(ValueError, match="img_size"):
        summary(preset_config("default"), size=4)


def test_summary_is_fast():
    cfg = preset_config("seed")
    summary(cfg)
    start = time.perf_counter()
    for _ in range(20):
        summary(cfg.replace(hidden_size=cfg.hidden_size + 1), frames=16, size=64)
    assert (time.perf_counter() - start) / 20 < 0.05
