"""`make bench` keeps working: every section runs in quick mode through the CLI and writes rows.

Only the structure is checked; the figures themselves are for `make bench` on a quiet machine.
"""
from __future__ import annotations

import json
import math

import pytest

from labkit import bench
from labkit.cli import main


def test_every_section_runs_quick_and_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    main(["bench", "--quick", "--out", str(out)])
    rows = json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))
    assert {r["section"] for r in rows} == set(bench.SECTIONS)
    for r in rows:
        assert r["name"] and r["unit"] is not None, r
        assert r["value"] is None or isinstance(r["value"], (int, float)), r
    names = {r["name"] for r in rows}
    # the figures have a row each: one latency per attribution method, and the IG ratio
    from labkit import explain
    assert {f"latency {m.name}" for m in explain.methods()} <= names
    ig = next(r for r in rows if r["name"].startswith("integrated_gradients / 32 batched"))
    assert ig["target"] == "<= 1.5" and math.isfinite(ig["value"]) and ig["value"] > 0
    printed = capsys.readouterr().out
    assert "integrated_gradients / 32 batched fwd+bwd" in printed


@pytest.mark.slow
def test_the_device_check_runs_on_the_cpu(tmp_path, capsys):
    """`make gpu-check`'s checks, as CI can run them: on the CPU, tiny, every check passing."""
    out = tmp_path / "check.json"
    assert main(["bench", "--check", "--device", "cpu", "--quick", "--out", str(out)]) == 0
    rows = {r["name"]: r for r in json.loads(out.read_text())}
    assert rows["device"]["note"] == "no CUDA: the CPU dry run"
    assert rows["loss curve: mixed precision on cpu vs fp32 on the CPU"]["ok"] is True
    assert rows["torchrun, 2 process(es), gloo"]["ok"] is True
    assert all(r["ok"] is not False for r in rows.values())
    assert "backward" in rows["seed: training (bf16, channels-last, batch 2)"]["note"]


def test_a_device_this_machine_lacks_is_one_clear_line(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["bench", "--check", "--device", "cuda", "--quick"]) == 2
    err = capsys.readouterr().err
    assert "CPU-only build" in err or "no usable CUDA" in err
