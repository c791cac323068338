"""Frame encoders: the hand-crafted ones (exact in summary, no weights, differentiable) and a user's
own module (measured in summary, saved and loaded with its run); every attribution method that
applies explains a model through each of them, and the others say why not."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from labkit import data, explain, models, runs, train
from labkit.explain.randomization import cascade
from labkit.explain.registry import get
from labkit.models import DCRN, DCRNConfig, summary
from labkit.runs.record import load_checkpoint, save_atomic

HAND_CRAFTED = ("sobel", "hog", "pixels")
FAST = {"integrated_gradients": {"n_steps": 4}, "smoothgrad": {"nt_samples": 2},
        "occlusion": {"window": 16, "stride": 16, "frames": 3}}


class TinyEncoder(nn.Module):
    """A user's encoder: conv (stride 2) -> ReLU -> [global mean: a vector per frame]."""

    def __init__(self, width: int = 4, vector: bool = False):
        super().__init__()
        self.conv, self.act, self.vector = nn.Conv2d(3, width, 3, stride=2, padding=1), nn.ReLU(), vector

    def forward(self, x):
        f = self.act(self.conv(x))  # (N, width, H/2, W/2)
        return f.mean((2, 3)) if self.vector else f


def make_encoder(width: int = 4) -> nn.Module:
    """A factory function, as a config may name it ("module:make_encoder")."""
    return TinyEncoder(width)


def _cfg(**kw) -> DCRNConfig:
    return DCRNConfig(**{**dict(num_classes=3, img_size=16, hidden_size=8, head_hidden=8, encoder_cell=4), **kw})


def _user_model(vector: bool = False, **kw) -> DCRN:
    torch.manual_seed(0)
    return models.build(_cfg(**kw), seed=0, frame_encoder=TinyEncoder(4, vector)).eval()


# ---- hand-crafted encoders: exact plans, no weights -------------------------------------------
@pytest.mark.parametrize("encoder", HAND_CRAFTED)
@pytest.mark.parametrize("readout", ["flatten", "gap", "keypoints"])
def test_plans_match_the_real_modules(encoder, readout):
    cfg = _cfg(frame_encoder=encoder, frame_readout=readout, hog_bins=5)
    model = DCRN(cfg).eval()
    assert model.blocks is None and model.frame_encoder_name == "encoder" and model.frame_encoder is model.encoder
    assert {k.split(".")[0] for k in model.state_dict()} == {"rnn", "head"}  # the kernels are not weights
    s = summary(cfg, frames=3, batch=2)
    assert s.totals["params"] == sum(p.numel() for p in model.parameters())
    assert s.table.set_index("layer").loc["encoder", "params"] == 0
    shapes = {}
    hooks = [m.register_forward_hook(lambda mod, i, o, name=name: shapes.__setitem__(name, tuple(o.shape)))
             for name, m in model.named_modules() if name in ("encoder", "encoder.gradients")]
    with FlopCounterMode(display=False) as counter:
        out = model(torch.randn(2, 3, 3, 16, 16))
    for h in hooks:
        h.remove()
    t = s.table.set_index("layer")
    for name, shape in shapes.items():  # hooks see folded frames (B*T, ...)
        assert (6, *t.loc[name, "output_shape"][2:]) == shape, name
    counted = sum(counter.get_flop_counts().get("DCRN.encoder", {}).values())
    assert counted == t.loc[[n for n in t.index if n.startswith("encoder")], "matmul_flops"].sum()
    assert t.loc["frame_readout", "output_shape"] == (2, 3, model.frame_dim)
    assert s.table["output_shape"].iloc[-1] == tuple(out.shape)


def test_hand_crafted_elementwise_flops_match_a_hand_count():
    """One frame of 8 x 8 pixels, 2 x 2 cells of 4 x 4: every op of stages.py's convention, written out."""
    P, cells, B = 64, 4, 3
    base = _cfg(img_size=8, encoder_cell=4, hog_bins=B)
    gradients = 2 * P * 2 * 3 * 9  # the Sobel conv over the padded frame: 2 outputs x 3 channels x 3 x 3
    standardise = 5 * cells * 1 + 2
    t = summary(base.replace(frame_encoder="sobel"), frames=1).table.set_index("layer")
    assert t.loc["encoder.gradients", "matmul_flops"] == gradients
    assert t.loc["encoder", "flops"] == 3 * P + (16 + 1) * cells + standardise  # squares and sum, pool + log1p
    t = summary(base.replace(frame_encoder="hog"), frames=1).table.set_index("layer")
    assert t.loc["encoder.votes", "flops"] == (10 + 6 * B) * P
    assert t.loc["encoder", "flops"] == (16 + 1) * B * cells + 5 * B * cells + 2
    t = summary(base.replace(frame_encoder="pixels"), frames=1).table.set_index("layer")
    assert t.loc["encoder", "flops"] == 16 * 3 * cells and "encoder.gradients" not in t.index


def test_a_fixed_encoder_costs_its_forward_only_in_training():
    s = summary(_cfg(frame_encoder="hog"), frames=4, batch=2)
    t = s.table.set_index("layer")
    fixed = t.loc[["encoder.gradients", "encoder.votes", "encoder", "frame_readout"], "flops"].sum()
    learned = t.drop(["encoder.gradients", "encoder.votes", "encoder", "frame_readout"])
    first = learned.iloc[0]  # the GRU: its input needs no gradient
    rest = learned.iloc[1:]
    expected = fixed + 2 * first["matmul_flops"] + 2 * (first["flops"] - first["matmul_flops"]) + \
        3 * rest["matmul_flops"].sum() + 2 * (rest["flops"] - rest["matmul_flops"]).sum()
    assert s.totals["training_flops"] == expected


@pytest.mark.parametrize("changes, words", [
    (dict(frame_encoder="resnet"), ["unknown frame_encoder 'resnet'", "models.build(config, frame_encoder=module)"]),
    (dict(frame_encoder="hog", encoder_cell=20), ["encoder_cell=20 is larger than the 16-pixel frame"]),
    (dict(frame_encoder="hog", hog_bins=1), ["hog_bins=1"]),
    (dict(frame_encoder="sobel", encoder_cell=0), ["encoder_cell=0"]),
])
def test_bad_encoder_settings_are_named(changes, words):
    with pytest.raises(ValueError) as err:
        _cfg(**changes).validate()
    for w in words:
        assert w in str(err.value)


def test_hand_crafted_encoders_ignore_the_cnn_geometry():
    """Settings that would shrink a CNN's frame away do not matter to a fixed encoder."""
    assert _cfg(frame_encoder="sobel", conv_channels=(8,) * 9).problems() == []
    assert _cfg(conv_channels=(8,) * 9).problems() != []


def test_sobel_finds_the_edges_of_a_square():
    """A bright square on black: edge energy peaks on the cells its border crosses, nowhere inside."""
    frame = torch.zeros(1, 3, 16, 16)
    frame[:, :, 4:12, 4:12] = 1.0
    energy = DCRN(_cfg(frame_encoder="sobel", encoder_cell=2)).encoder(frame)[0, 0]  # (8, 8)
    assert energy[2, 2:6].min() > energy[3:5, 3:5].max() and energy[0, 0] < energy[2, 3]
    hog = DCRN(_cfg(frame_encoder="hog", encoder_cell=2, hog_bins=4)).encoder(frame)[0]  # (4, 8, 8)
    assert hog[:, 2, 3].argmax() == 2  # a horizontal edge: its gradient is vertical, 90 degrees


# ---- a user's own encoder ----------------------------------------------------------------------
def test_a_users_encoder_is_recorded_by_its_factory():
    model = _user_model()
    assert model.config.frame_encoder.endswith(":TinyEncoder") and model.frame_encoder_name == "encoder"
    assert model.config.unused_fields()[-2:] == ("encoder_cell", "hog_bins")
    s = summary(model, frames=3, batch=2)
    t = s.table.set_index("layer")
    assert s.totals["params"] == sum(p.numel() for p in model.parameters())
    assert t.loc["encoder", "output_shape"] == (2, 3, 4, 8, 8)
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(2, 3, 3, 16, 16))
    assert t.loc["encoder", "matmul_flops"] == sum(counter.get_flop_counts()["DCRN.encoder"].values())
    # the config alone is enough: its factory builds an encoder to measure
    assert summary(model.config, frames=3, batch=2).totals == s.totals


def test_a_factory_function_with_arguments_builds_the_encoder():
    cfg = _cfg(frame_encoder=f"{__name__}:make_encoder", encoder_kwargs={"width": 6})
    model = models.build(cfg, seed=0)
    assert isinstance(model.encoder, TinyEncoder) and model.encoder.conv.out_channels == 6
    assert model.config.frame_encoder == cfg.frame_encoder  # a named factory is kept as it is
    with pytest.raises(ValueError, match="could not be built with encoder_kwargs"):
        models.build(cfg.replace(encoder_kwargs={"depth": 2}))


def test_a_vector_per_frame_reads_as_a_one_by_one_map():
    model = _user_model(vector=True, frame_readout="flatten")
    assert summary(model).totals["map_shape"] == (4, 1, 1) and model.frame_dim == 4
    assert model(torch.randn(2, 5, 3, 16, 16)).shape == (2, 3)


def test_a_users_encoder_survives_a_save_and_load_round_trip(tmp_path):
    ds = data.synthetic("direction", n=24, frames=4, size=16, seed=0)
    model = _user_model(num_classes=8)
    result = train.fit(model, ds, None, epochs=1, batch_size=8, progress=False, device="cpu", run_dir=tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "config.json").read_text())["model"]
    assert saved["frame_encoder"] == model.config.frame_encoder
    loaded = runs.load(tmp_path / "run")
    assert isinstance(loaded.encoder, TinyEncoder)
    clips = ds.batch(range(4))[0]
    np.testing.assert_allclose(loaded.predict_proba(clips), result.model.predict_proba(clips), atol=1e-6)
    for (name, a), b in zip(result.model.encoder.state_dict().items(), loaded.encoder.state_dict().values()):
        assert torch.equal(a, b), name


def test_loading_refuses_an_encoder_it_cannot_build_and_names_what_it_needs(tmp_path):
    ds = data.synthetic("direction", n=16, frames=4, size=16, seed=0)
    train.fit(_user_model(num_classes=8), ds, None, epochs=1, batch_size=8, progress=False, device="cpu",
              run_dir=tmp_path / "run")
    path = tmp_path / "run" / "best.pt"
    ckpt = load_checkpoint(path)
    ckpt["config"]["model"]["frame_encoder"] = "lab_encoders_gone.nets:TinyEncoder"
    save_atomic(ckpt, path)
    with pytest.raises(ValueError, match="'lab_encoders_gone.nets' cannot be imported here.*make it importable"):
        runs.load(tmp_path / "run")


def test_an_encoder_defined_in_a_function_warns_that_runs_cannot_rebuild_it():
    class Local(nn.Module):
        def forward(self, x):
            return x.mean(1, keepdim=True)

    with pytest.warns(UserWarning, match="inside a function.*runs.load cannot rebuild"):
        model = models.build(_cfg(), frame_encoder=Local())
    assert model(torch.randn(1, 2, 3, 16, 16)).shape == (1, 3)
    with pytest.raises(ValueError, match="defined inside a function"):
        DCRN(model.config)


def test_with_head_shares_the_body_and_copy_body_moves_it():
    model = models.preset("default", num_classes=8, img_size=16, conv_channels=(4,), hidden_size=8, seed=0)
    other = models.with_head(model, 2, seed=1)
    assert other.blocks is model.blocks and other.rnn is model.rnn and other.head is not model.head
    assert other.config == model.config.replace(num_classes=2) and other.head[-1].out_features == 2
    fresh = models.preset("default", num_classes=5, img_size=16, conv_channels=(4,), hidden_size=8, seed=2)
    head = {k: v.clone() for k, v in fresh.head.state_dict().items()}
    models.copy_body(other, fresh)
    for k, v in models.reuse.body_state(model).items():
        assert torch.equal(fresh.state_dict()[k], v), k
    assert all(torch.equal(fresh.head.state_dict()[k], v) for k, v in head.items())
    with pytest.raises(ValueError, match="differ in \\['hidden_size'\\]"):
        models.copy_body(model, models.preset("default", num_classes=8, img_size=16, conv_channels=(4,), seed=0))
    user = _user_model()
    assert models.with_head(user, 2).encoder is user.encoder


# ---- attribution through every encoder ---------------------------------------------------------
ENCODERS = ("cnn", *HAND_CRAFTED, "user", "user-vector")


def _model(encoder: str, cell: str) -> DCRN:
    kw = dict(num_classes=3, img_size=32, hidden_size=8, head_hidden=8, cell=cell, encoder_cell=8)
    if encoder.startswith("user"):
        return models.build(models.preset_config("default", **kw), seed=0,
                            frame_encoder=TinyEncoder(4, vector=encoder == "user-vector")).eval()
    return models.preset("default", seed=0, conv_channels=(4, 8), frame_encoder=encoder, **kw).eval()


@pytest.fixture(scope="module")
def clips():
    return np.random.default_rng(0).integers(0, 256, (2, 6, 32, 32, 3), dtype=np.uint8)


@pytest.mark.parametrize("method", [m.name for m in explain.methods()])
@pytest.mark.parametrize("encoder", ENCODERS)
def test_every_method_explains_through_every_encoder_or_says_why_not(encoder, method, clips):
    # DeepLift refuses recurrent layers whatever the encoder: it is tried on the frame-only cell
    model = _model(encoder, "none" if method == "deeplift" else "gru")
    why = get(method).applies(model)
    refused = {("deeplift", "sobel"), ("deeplift", "hog"), ("grad_cam", "user-vector")}
    assert (why is not None) == ((method, encoder) in refused), why
    if why is not None:
        assert "integrated_gradients" in why
        with pytest.raises(ValueError, match=method):
            explain.attribute(model, clips, method=method)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Captum's notes on hooks
        attr = explain.attribute(model, clips, method=method, **FAST.get(method, {}))
    assert attr.maps.shape == (2, 6, 32, 32) and np.isfinite(attr.maps).all()
    assert np.abs(attr.maps).sum() > 0  # something reached the pixels
    if method == "grad_cam":
        assert attr.params["layer"] == ("blocks.1" if encoder == "cnn" else "encoder")


@pytest.mark.parametrize("encoder", ENCODERS)
def test_the_randomisation_cascade_covers_each_encoders_weights(encoder, clips):
    model = _model(encoder, "gru")
    expected = {"cnn": ["blocks.1", "blocks.0"], "user": ["encoder"], "user-vector": ["encoder"]}.get(encoder, [])
    assert cascade(model) == ["head", "rnn", *expected]
    table = explain.randomization_check(model, clips[:1], "saliency")
    assert list(table["layer"]) == ["original", "head", "rnn", *expected]


def test_grad_cam_on_a_fixed_encoder_takes_block_zero_only(clips):
    model = _model("sobel", "gru")
    with pytest.raises(ValueError, match="gives one map"):
        explain.attribute(model, clips, method="grad_cam", block=1)
