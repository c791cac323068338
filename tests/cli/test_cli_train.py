"""`labkit train` / `labkit evaluate`: progress, then the metrics as one JSON object on the last line."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.cli.train import parse_overrides

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--data", "synthetic:order", "--n", "32", "--frames", "4", "--size", "16", "--threads", "1",
        "--set", "conv_channels=4", "--set", "hidden_size=8", "--set", "head_hidden=0"]


def _last_json(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def test_train_then_evaluate_print_json_last(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--epochs", "2", "--batch-size", "8", "--out", str(out), "--no-progress"]) == 0
    stdout = capsys.readouterr().out
    metrics = _last_json(stdout)
    assert metrics["epochs"] == 2 and metrics["run_dir"] == str(out)
    assert 0 <= metrics["best_val_accuracy"] <= 1 and metrics["stopped"] is None
    assert (out / "best.pt").is_file() and (out / "metrics.json").is_file()
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["conv_channels"] == [4] and config["model"]["hidden_size"] == 8

    assert main(["evaluate", str(out), "--data", "synthetic:order", "--n", "16",
                 "--predictions", str(tmp_path / "pred.csv")]) == 0
    ev = _last_json(capsys.readouterr().out)
    assert ev["clips"] == 16 and 0 <= ev["top1"] <= 1 and ev["top5"] is None
    assert (tmp_path / "pred.csv").read_text().startswith("clip,true,predicted,confidence")

    # --resume continues the same run folder to more epochs
    assert main(["train", *TINY, "--epochs", "3", "--batch-size", "8", "--out", str(out), "--resume",
                 "--no-progress"]) == 0
    assert _last_json(capsys.readouterr().out)["epochs"] == 3


def test_the_installed_command_shows_progress_and_ends_with_json(tmp_path):
    """A real process: tqdm progress on stderr, the JSON as stdout's last line."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "labkit.cli", "train", *TINY, "--epochs", "1",
                           "--out", str(tmp_path / "run")], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "epoch 1/1" in proc.stderr  # the progress bar
    assert _last_json(proc.stdout)["epochs"] == 1


def test_bad_input_is_one_clear_line(tmp_path, capsys):
    assert main(["train", *TINY, "--set", "hidden=3", "--out", str(tmp_path / "r")]) == 2
    assert "valid keys" in capsys.readouterr().err
    assert main(["train", "--data", "synthetic:nope", "--out", str(tmp_path / "r")]) == 2
    assert "unknown synthetic task" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "missing"), "--data", "synthetic:order"]) == 2
    assert "run folder" in capsys.readouterr().err


def test_set_values_are_parsed():
    assert parse_overrides(["hidden_size=32", "conv_channels=16,32", "cell=lstm", "batch_norm=false",
                            "drop_rate=0.1", "mean=[0.4, 0.4, 0.4]", "std=0.3"]) == {
        "hidden_size": 32, "conv_channels": (16, 32), "cell": "lstm", "batch_norm": False, "drop_rate": 0.1,
        "mean": (0.4, 0.4, 0.4), "std": (0.3,)}
    with pytest.raises(ValueError, match="key=value"):
        parse_overrides(["hidden_size"])


def test_train_on_a_folder_of_frame_folders(tmp_path, capsys, monkeypatch):
    """--data PATH reads <root>/<class>/<clip>/<frame>.png through data.folder."""
    import numpy as np
    from PIL import Image

    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    for label, name in enumerate(["dark", "bright"]):
        for c in range(6):
            clip_dir = tmp_path / "clips" / name / f"clip{c}"
            clip_dir.mkdir(parents=True)
            for t in range(4):
                frame = rng.integers(0, 100, (16, 16, 3)) + 120 * label
                Image.fromarray(frame.astype(np.uint8)).save(clip_dir / f"{t:03d}.png")
    args = ["train", "--data", str(tmp_path / "clips"), "--frames", "4", "--size", "16", "--threads", "1",
            "--set", "conv_channels=4", "--set", "hidden_size=8", "--epochs", "1", "--batch-size", "4",
            "--val-split", "0.34", "--out", str(tmp_path / "run"), "--no-progress"]
    assert main(args) == 0
    metrics = _last_json(capsys.readouterr().out)
    assert metrics["epochs"] == 1
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert sorted(config["data"]["train"]["classes"]) == ["bright", "dark"]
