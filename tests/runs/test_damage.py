"""Damaged run folders and checkpoints: every problem names the file; the CLI says so in one line."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from labkit import runs
from labkit.cli import main
from labkit.errors import RunError
from labkit.runs.record import writer_lock

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(tmp_path, run_dir_fixture):
    shutil.copytree(run_dir_fixture, tmp_path / "run")
    return tmp_path / "run"


def _damage(path: Path, how: str):
    ckpt = torch.load(path, weights_only=True)
    if how == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "nan":
        name = next(iter(ckpt["model"]))
        ckpt["model"][name] = torch.full_like(ckpt["model"][name], float("nan"))
        torch.save(ckpt, path)
    elif how == "wrong shape":
        name = next(k for k, v in ckpt["model"].items() if v.ndim == 4)
        ckpt["model"][name] = ckpt["model"][name][:1]
        torch.save(ckpt, path)
    elif how == "bad config":
        ckpt["config"]["model"]["hidden_size"] = -3
        torch.save(ckpt, path)


@pytest.mark.parametrize("how, words", [
    ("truncated", "not a readable checkpoint"), ("empty", "not a readable checkpoint"),
    ("nan", "are not finite"), ("wrong shape", "do not fit its own model config"),
    ("bad config", "model config cannot be built"),
])
def test_a_damaged_checkpoint_names_the_file(run, capsys, how, words):
    _damage(run / "best.pt", how)
    with pytest.raises(RunError, match=words) as e:
        runs.load(run)
    assert str(run / "best.pt") in str(e.value)
    assert main(["evaluate", str(run)]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1  # one line, no traceback, no exit 0 after a wrong result


def test_a_second_writer_is_refused_with_the_owners_pid(run):
    """A real second `labkit train` process into a folder another run is writing."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    with writer_lock(run):
        proc = subprocess.run([sys.executable, "-m", "labkit.cli", "train", "--epochs", "2", "--resume",
                               "--out", str(run)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert f"being written by process {os.getpid()}" in proc.stderr and "Traceback" not in proc.stderr
    assert not (run / ".writer").exists()


def test_resume_on_the_command_line_needs_override_to_change_settings(run, capsys):
    saved = json.loads((run / "config.json").read_text())["train"]
    assert main(["train", "--resume", "--out", str(run), "--epochs", "7", "--lr", "0.5", "--no-progress"]) == 2
    assert "--lr differ from them; add --override" in capsys.readouterr().err
    assert main(["train", "--resume", "--out", str(run), "--clips", "99"]) == 2
    assert "leave out --clips" in capsys.readouterr().err
    assert main(["train", "--resume", "--out", str(run), "--epochs", "7", "--lr", "0.02", "--override",
                 "--no-progress", "--threads", "1"]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["train"]["lr"] == 0.02 and config["train"]["epochs"] == 7
    assert {"epoch": 7, "setting": "lr", "from": saved["lr"], "to": 0.02} in config["changes"]


@pytest.mark.parametrize("argv, words", [
    (["train", "--data", "synthetic:order", "--grad-clip", "-1", "--out", "{tmp}/r"], "grad_clip=-1 is out of range"),
    (["train", "--data", "synthetic:order", "--val-split", "nan", "--out", "{tmp}/r"], "--val-split nan"),
    (["train", "--data", "synthetic:order", "--set", "img_size=64", "--out", "{tmp}/r"], "--set img_size"),
    (["train", "--data", "synthetic:order", "--set", "num_classes=3", "--out", "{tmp}/r"], "--set num_classes"),
    (["train", "--data", "synthetic:order", "--device", "cuda:7", "--out", "{tmp}/r"], "device='cuda:7'"),
    (["train", "--data", "synthetic:order", "--clips", "16", "--frames", "4", "--size", "16", "--out", "{tmp}/file"],
     "is a file, not a run folder"),
    (["bench", "--sections", "bogus"], "unknown benchmark section"),
    (["evaluate", "{tmp}/nothing"], "does not exist"),
])
def test_bad_arguments_are_one_line(tmp_path, capsys, argv, words):
    (tmp_path / "file").write_text("not a folder")
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1, err
