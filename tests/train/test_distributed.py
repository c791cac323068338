"""The same fit() under `torchrun --nproc_per_node=2` (2 real CPU processes, gloo) matches a
single-process run with the same global batch."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = '''
import json, os, sys
import torch
from labkit import data, models, train

out = sys.argv[1]
ds = data.synthetic("order", n=32, frames=4, size=16, seed=0)
tr, va = data.split(ds, (0.75, 0.25), seed=0)  # 24 train clips: 3 global batches of 8
torch.manual_seed(0)
# no batch norm: its statistics are per process under DDP, everything else must match
model = models.preset("default", num_classes=2, img_size=16, conv_channels=(4,), hidden_size=8,
                      head_hidden=8, batch_norm=False)
result = train.fit(model, tr, va, epochs=2, batch_size=8, lr=1e-2, seed=0, device="cpu",
                   progress=False, threads=1, run_dir=os.path.join(out, "run"))
rank = int(os.environ.get("RANK", "0"))
torch.save(result.model.state_dict(), os.path.join(out, f"weights{rank}.pt"))
with open(os.path.join(out, f"history{rank}.json"), "w") as f:
    json.dump(result.history.to_dict(orient="list"), f)
'''


def _run(args, out: Path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(var, None)
    out.mkdir()
    proc = subprocess.run([sys.executable, *args, str(out)], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.slow
def test_torchrun_two_processes_match_one(tmp_path):
    script = tmp_path / "fit_script.py"
    script.write_text(SCRIPT)
    _run([str(script)], tmp_path / "single")
    _run(["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script)], tmp_path / "ddp")

    single = torch.load(tmp_path / "single" / "weights0.pt", weights_only=True)
    rank0 = torch.load(tmp_path / "ddp" / "weights0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "ddp" / "weights1.pt", weights_only=True)
    for k in single:
        assert torch.equal(rank0[k], rank1[k]), k  # the ranks agree exactly
        torch.testing.assert_close(rank0[k], single[k], atol=1e-5, rtol=1e-4)

    h1 = pd.DataFrame(json.loads((tmp_path / "single" / "history0.json").read_text()))
    h2 = pd.DataFrame(json.loads((tmp_path / "ddp" / "history0.json").read_text()))
    cols = ["loss", "accuracy", "val_loss", "val_accuracy", "grad_norm", "lr"]
    pd.testing.assert_frame_equal(h1[cols], h2[cols], atol=1e-5, rtol=1e-4)  # metrics summed over ranks
    assert h2["epoch"].tolist() == [1, 2]

    # only rank 0 wrote the run folder, and it knows it ran on 2 processes
    run = tmp_path / "ddp" / "run"
    assert sorted(p.name for p in run.iterdir()) == ["batches.csv", "best.pt", "config.json", "history.csv", "last.pt", "metrics.json"]
    assert json.loads((run / "config.json").read_text())["runtime"]["world_size"] == 2


@pytest.mark.slow
def test_the_cli_under_torchrun_takes_a_clip_count(tmp_path):
    """`--clips` survives torchrun's own option parsing (`--n` was read as torchrun's --nnodes)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(var, None)
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           "-m", "labkit.cli", "train", "--data", "synthetic:order", "--clips", "40", "--frames", "4",
                           "--size", "16", "--set", "conv_channels=4", "--set", "hidden_size=8", "--epochs", "1",
                           "--batch-size", "8", "--threads", "1", "--no-progress", "--out", str(tmp_path / "run")],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1])["epochs"] == 1  # rank 0 alone prints the JSON
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["runtime"]["world_size"] == 2 and config["data"]["train"]["recipe"]["of"]["n"] == 40
