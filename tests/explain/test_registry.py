"""explain.methods(): one registry with parameter specs the widgets and CLI build controls from."""
from __future__ import annotations

import pytest

from labkit import explain
from labkit.explain.registry import get

NAMES = ["saliency", "input_x_gradient", "integrated_gradients", "smoothgrad", "occlusion", "grad_cam",
         "frame_ablation", "deeplift"]


def test_every_method_is_listed_with_typed_params():
    specs = explain.methods()
    assert [s.name for s in specs] == NAMES
    for spec in specs:
        assert spec.label and spec.description
        for p in spec.params:
            assert p.type in ("int", "float", "bool", "choice") and p.help
            if p.type == "choice":
                assert p.default in p.choices
            if p.type in ("int", "float") and p.default is not None:
                assert p.low <= p.default <= p.high


def test_resolve_fills_defaults_and_coerces_strings():
    spec = get("integrated_gradients")
    assert spec.resolve({}) == {"n_steps": 32, "baseline": "blur", "internal_batch_size": None}
    assert spec.resolve({"n_steps": "8", "baseline": "black"})["n_steps"] == 8
    assert get("saliency").resolve({"abs": "false"}) == {"abs": False}


@pytest.mark.parametrize("params, match", [({"steps": 4}, "unknown parameter"), ({"n_steps": 1}, r"\[2, 256\]"),
                                           ({"baseline": "white"}, "must be one of"),
                                           ({"n_steps": "many"}, "type int")])
def test_bad_params_are_named(params, match):
    with pytest.raises(ValueError, match=match):
        get("integrated_gradients").resolve(params)


def test_unknown_method_lists_the_methods():
    with pytest.raises(ValueError, match="integrated_gradients"):
        get("lime")


def test_applies_is_none_or_a_reason(tiny):
    """`MethodSpec.applies(model)`: None where the method can explain the model, else why not."""
    frame_only, gru = tiny("frame-only"), tiny("default")
    assert all(spec.applies(frame_only) is None for spec in explain.methods())
    assert [s.name for s in explain.methods() if s.applies(gru) is not None] == ["deeplift"]
    assert "nn.GRU" in get("deeplift").applies(gru)
