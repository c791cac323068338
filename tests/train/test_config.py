"""TrainConfig: a dataclass like DCRNConfig; its validation names the setting and the fix."""
import json

import pytest
import torch

from labkit import train
from labkit.train import TrainConfig
from labkit.train.optim import make_optimizer


def test_round_trip_and_replace():
    cfg = TrainConfig(epochs=3, lr=3e-3, scheduler="cosine", augment={"shift": 0.05}, grad_clip=1.0)
    d = json.loads(json.dumps(cfg.to_dict()))
    assert TrainConfig.from_dict(d) == cfg
    assert cfg.replace(lr=1e-2).lr == 1e-2 and cfg.lr == 3e-3
    with pytest.raises(TypeError, match="lrr"):
        cfg.replace(lrr=1)
    with pytest.raises(TypeError, match="unknown TrainConfig field"):
        TrainConfig.from_dict({"epochs": 1, "amp": True})


@pytest.mark.parametrize("change, words", [
    (dict(epochs=0), "epochs=0 is too small"),
    (dict(batch_size=2.5), "batch_size=2.5 must be a whole number"),
    (dict(lr=-1e-3), "lr=-0.001 is out of range"),
    (dict(lr=float("nan")), "lr=nan must be a finite number"),
    (dict(grad_clip=-1.0), "grad_clip=-1.0 is out of range; use a value > 0"),
    (dict(grad_clip=0), "grad_clip=0 is out of range"),
    (dict(momentum=1.0), "momentum=1.0 is out of range; use a value >= 0 and < 1"),
    (dict(optimizer="lbfgs"), "optimizer='lbfgs' is not a choice"),
    (dict(precision="half"), "precision='half' is not a choice"),
    (dict(early_stopping=True), "patience"),
    (dict(augment="yes"), "augment='yes'"),
    (dict(threads=0), "threads=0 is too small"),
])
def test_validation_names_the_setting_and_the_fix(change, words):
    with pytest.raises(ValueError, match="invalid TrainConfig") as e:
        TrainConfig(**change).validate()
    assert words in str(e.value)


def test_every_field_documents_itself():
    import dataclasses

    for f in dataclasses.fields(TrainConfig):
        assert f.metadata["help"], f.name


def test_momentum_is_a_setting_and_sgd_without_it_is_plain_gradient_descent():
    w = [torch.nn.Parameter(torch.zeros(2))]
    assert make_optimizer(w, "sgd", 0.1).param_groups[0]["momentum"] == 0.9  # the usual default
    assert make_optimizer(w, "sgd", 0.1, momentum=0.0).param_groups[0]["momentum"] == 0.0
    assert make_optimizer(w, "rmsprop", 0.1).param_groups[0]["momentum"] == 0.0
    assert make_optimizer(w, "adam", 0.1, momentum=0.5).param_groups[0]["betas"] == (0.5, 0.999)
    # one plain gradient-descent step is exactly w - lr * grad
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = make_optimizer([p], "sgd", 0.1, momentum=0.0)
    (p ** 2).sum().backward()
    opt.step()
    assert torch.allclose(p.detach(), torch.tensor([1.0, -2.0]) * (1 - 0.2))


def test_fit_takes_a_config_and_overrides(micro_split, micro_model):
    tr, va = micro_split
    cfg = TrainConfig(epochs=1, batch_size=8, device="cpu", threads=1)
    result = train.fit(micro_model, tr, va, cfg, progress=False, lr=1e-2)
    assert len(result.history) == 1 and result.history["lr"].iloc[0] == 1e-2
    with pytest.raises(TypeError, match="unknown training setting"):
        train.fit(micro_model, tr, va, cfg, progress=False, amp=True)
    with pytest.raises(ValueError, match="grad_clip"):
        train.fit(micro_model, tr, va, cfg, progress=False, grad_clip=-1)
