"""Device choice, mixed precision and thread settings (CUDA/MPS paths via monkeypatching)."""
import warnings

import pytest
import torch

from labkit.train.devices import configure_backend, num_threads, resolve_device, resolve_precision
from labkit.train.distributed import DistContext


def _fake_backends(monkeypatch, cuda: bool, mps: bool):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)


@pytest.mark.parametrize("cuda, mps, expected", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    _fake_backends(monkeypatch, cuda, mps)
    assert resolve_device("auto").type == expected


def test_explicit_devices_pass_through_when_the_machine_has_them(monkeypatch):
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(ValueError, match="device='gpu9'"):
        resolve_device("gpu9")
    _fake_backends(monkeypatch, cuda=True, mps=False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(ValueError, match="cuda:0 .. cuda:1"):
        resolve_device("cuda:2")


def test_a_device_this_machine_lacks_is_refused(monkeypatch):
    _fake_backends(monkeypatch, cuda=False, mps=False)
    with pytest.raises(ValueError, match="device='cuda'.*use device='cpu'"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="device='mps'"):
        resolve_device("mps")


def test_amp_resolution_per_device(monkeypatch):
    cpu, cuda, mps = torch.device("cpu"), torch.device("cuda"), torch.device("mps")
    assert resolve_precision("fp32", cpu).dtype is None
    assert resolve_precision("auto", cpu).dtype is torch.bfloat16
    assert not resolve_precision("auto", cpu).grad_scaler().is_enabled()  # bf16 needs no loss scaling
    with pytest.raises(ValueError, match="fp16.*CPU"):
        resolve_precision("fp16", cpu)
    with pytest.raises(ValueError, match="precision='half'"):
        resolve_precision("half", cpu)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert resolve_precision("auto", cuda).name == "bf16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    fp16 = resolve_precision("auto", cuda)
    assert fp16.dtype is torch.float16
    with warnings.catch_warnings():  # "CUDA is not available. Disabling" on this CPU-only machine
        warnings.simplefilter("ignore")
        assert isinstance(fp16.grad_scaler(), torch.amp.GradScaler)
    assert resolve_precision("auto", mps).name == "fp16"


def test_cpu_bf16_autocast_runs_the_forward_in_bf16():
    lin = torch.nn.Linear(4, 4)
    with resolve_precision("bf16", torch.device("cpu")).autocast():
        assert lin(torch.randn(2, 4)).dtype is torch.bfloat16


def test_cuda_backend_turns_on_cudnn_autotuning():
    saved = (torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
    try:
        torch.backends.cudnn.benchmark = False
        configure_backend(torch.device("cpu"))
        assert torch.backends.cudnn.benchmark is False
        configure_backend(torch.device("cuda"))
        assert torch.backends.cudnn.benchmark is True and torch.backends.cuda.matmul.allow_tf32 is True
    finally:
        (torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32,
         torch.backends.cuda.matmul.allow_tf32) = saved


def test_num_threads_is_set_and_restored():
    before = torch.get_num_threads()
    with num_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with num_threads(None):
        assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads=0"):
        with num_threads(0):
            pass


def test_one_gpu_per_process_under_torchrun():
    ctx = DistContext(rank=3, world_size=4, local_rank=1)
    assert ctx.device(torch.device("cuda")) == torch.device("cuda", 1)
    assert ctx.device(torch.device("cpu")) == torch.device("cpu")
    assert DistContext().device(torch.device("cuda")) == torch.device("cuda")
    assert not ctx.is_main and ctx.eval_indices(10) == [3, 7]


def test_setup_without_torchrun_is_single_process(monkeypatch):
    from labkit.train import distributed

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    ctx = distributed.setup(torch.device("cpu"))
    assert (ctx.rank, ctx.world_size, ctx.enabled, ctx.is_main) == (0, 1, False, True)
    assert ctx.sum([1.0, 2.0]) == [1.0, 2.0] and ctx.any(True) and not ctx.any(False)

