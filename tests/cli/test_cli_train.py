"""`labkit train` / `labkit evaluate`: progress, then the metrics as one JSON object on the last line."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.cli.options import dataclass_overrides
from labkit.models import DCRNConfig

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--data", "synthetic:order", "--clips", "32", "--frames", "4", "--size", "16", "--threads", "1",
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

    assert main(["evaluate", str(out), "--data", "synthetic:order", "--clips", "16",
                 "--predictions", str(tmp_path / "pred.csv")]) == 0
    ev = _last_json(capsys.readouterr().out)
    assert ev["clips"] == 16 and 0 <= ev["top1"] <= 1 and ev["top5"] is None
    assert (tmp_path / "pred.csv").read_text().startswith("clip,true,predicted,confidence")

    # --resume continues the same run folder to more epochs
    assert main(["train", "--epochs", "3", "--out", str(out), "--resume", "--no-progress"]) == 0
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


def parse_overrides(pairs):
    return dataclass_overrides(DCRNConfig, pairs, "--set", "hidden_size=32")


def test_set_values_are_parsed():
    assert parse_overrides(["hidden_size=32", "conv_channels=16,32", "cell=lstm", "batch_norm=false",
                            "drop_rate=0.1", "mean=[0.4, 0.4, 0.4]", "std=0.3"]) == {
        "hidden_size": 32, "conv_channels": (16, 32), "cell": "lstm", "batch_norm": False, "drop_rate": 0.1,
        "mean": (0.4, 0.4, 0.4), "std": (0.3,)}
    with pytest.raises(ValueError, match="KEY=VALUE"):
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


def test_evaluate_without_data_rebuilds_the_runs_own_data(tmp_path, capsys):
    """train on order with gap 3, then `labkit evaluate RUN` alone evaluates on order with gap 3."""
    out = tmp_path / "run"
    args = [a for a in TINY if a != "synthetic:order"]
    args[args.index("--data") + 1:args.index("--data") + 1] = ["synthetic:order"]
    assert main(["train", *args, "--data-option", "gap=3", "--epochs", "1", "--batch-size", "8",
                 "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(out)]) == 0
    ev = _last_json(capsys.readouterr().out)
    assert ev["split"] == "val" and ev["clips"] == 5  # the run's own 15% of 32 clips
    assert ev["data"]["kind"] == "subset" and ev["data"]["of"]["task"] == "order"
    assert ev["data"]["of"]["options"]["gap"] == 3 and ev["data"]["of"]["frames"] == 4
    config = json.loads((out / "config.json").read_text())
    assert ev["data"] == config["data"]["val"]["recipe"]

    assert main(["evaluate", str(out), "--split", "fresh"]) == 0
    fresh = _last_json(capsys.readouterr().out)
    assert fresh["data"]["kind"] == "synthetic" and fresh["data"]["options"]["gap"] == 3
    assert fresh["data"]["seed"] == 1 and fresh["clips"] == 32  # new clips of the same task
    assert main(["evaluate", str(out), "--split", "train"]) == 0
    assert _last_json(capsys.readouterr().out)["clips"] == 27


@pytest.mark.parametrize("extra, message", [
    (["--data", "synthetic:direction"], "has classes"),
    (["--data", "synthetic:order", "--size", "16"], "pass --size 32"),
    (["--data-option", "gap=2"], "without --data the run's own recipe"),
])
def test_evaluate_refuses_data_that_contradicts_the_run(run_dir_fixture, capsys, extra, message):
    assert main(["evaluate", str(run_dir_fixture), "--clips", "8", *extra] if "--data" in extra
                else ["evaluate", str(run_dir_fixture), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1  # one line, no traceback


def test_training_options_come_from_train_config(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    help_text = capsys.readouterr().out
    for flag in ("--batch-size", "--momentum", "--grad-clip", "--precision", "--early-stopping", "--no-augment"):
        assert flag in help_text, flag
    assert "patience" in help_text and "fp32, bf16, fp16, auto" in help_text
    rc = main(["train", *TINY, "--grad-clip", "-1", "--out", str(tmp_path / "r")])
    assert rc == 2 and "grad_clip=-1 is out of range" in capsys.readouterr().err
    rc = main(["train", *TINY, "--val-split", "0", "--out", str(tmp_path / "r")])
    assert rc == 2 and "--val-split 0" in capsys.readouterr().err
    assert main(["train", *TINY, "--epochs", "1", "--batch-size", "8", "--momentum", "0", "--optimizer", "sgd",
                 "--no-augment", "--out", str(tmp_path / "gd"), "--no-progress"]) == 0
    config = json.loads((tmp_path / "gd" / "config.json").read_text())
    assert config["train"]["momentum"] == 0 and config["train"]["optimizer"] == "sgd"
    assert config["train"]["augment"] is False
