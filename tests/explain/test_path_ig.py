"""The broadcast integrated gradients agree with Captum's own IntegratedGradients."""
from __future__ import annotations

import captum.attr as ca
import pytest
import torch
import torch.nn as nn

from labkit.explain.registry import Logits
from labkit.explain.path_ig import BroadcastIntegratedGradients



def _both(forward, inputs, **kw):
    """(ours, Captum's) results of the same attribute call."""
    return (BroadcastIntegratedGradients(forward).attribute(inputs, **kw),
            ca.IntegratedGradients(forward).attribute(inputs, **kw))


def _close(ours, theirs):
    ours, theirs = (ours if isinstance(ours, tuple) else (ours,)), (theirs if isinstance(theirs, tuple) else (theirs,))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5 * float(b.abs().max()) + 1e-7)


@pytest.mark.parametrize("kw", [
    dict(n_steps=16),
    dict(n_steps=7, method="riemann_trapezoid"),
    dict(n_steps=6, internal_batch_size=4),  # Captum's chunked path calls our `_attribute` per chunk
    dict(n_steps=5, baselines=0.25),  # scalar baseline
    dict(n_steps=5, target=torch.tensor([0, 2, 1])),  # one target per clip
])
def test_matches_captum_on_a_recurrent_model(kw, tiny):
    net = Logits(tiny("default"))
    x = torch.randn(3, 4, 3, 32, 32)
    kw = {"baselines": torch.randn(1, 4, 3, 32, 32), "target": 1, **kw}
    (a, da), (b, db) = _both(net, x, return_convergence_delta=True, **kw)
    _close(a, b)
    torch.testing.assert_close(da, db, rtol=1e-3, atol=1e-4)


class _TwoInputs(nn.Module):
    """(a (n, 5), b (n, 3), scale (n, 1)) -> (n, 2): several inputs and an extra forward argument."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fa, self.fb = nn.Linear(5, 2), nn.Linear(3, 2)

    def forward(self, a, b, scale):
        return torch.tanh(self.fa(a)) * scale + self.fb(b) ** 2


def test_matches_captum_with_several_inputs_and_extra_arguments():
    net = _TwoInputs()
    inputs = (torch.randn(4, 5), torch.randn(4, 3))
    kw = dict(baselines=(torch.zeros(4, 5), 0.5), target=0, additional_forward_args=(torch.rand(4, 1),),
              n_steps=12, return_convergence_delta=True)
    (a, da), (b, db) = _both(net, inputs, **kw)
    _close(a, b)
    torch.testing.assert_close(da, db, rtol=1e-4, atol=1e-5)


def test_gradients_flow_to_the_inputs_only_through_the_path(tiny):
    """The clip itself must not need or receive gradients: the path is a fresh leaf."""
    net = Logits(tiny("default"))
    x = torch.randn(1, 4, 3, 32, 32)
    attr = BroadcastIntegratedGradients(net).attribute(x, baselines=torch.zeros_like(x), target=0, n_steps=4)
    assert attr.shape == x.shape and not x.requires_grad and x.grad is None
