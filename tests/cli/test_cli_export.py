"""`labkit export RUN --format torchscript|onnx`: the file is written, reloaded and checked against
the run's model; it takes raw clips and any number of frames, and runs without labkit."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from labkit import data, runs
from labkit.cli import main


@pytest.mark.parametrize("fmt, name", [("torchscript", "model.torchscript.pt"), ("onnx", "model.onnx")])
def test_export_writes_a_checked_file_that_matches_the_run(run_dir_fixture, tmp_path, capsys, fmt, name):
    out = tmp_path / name
    assert main(["export", str(run_dir_fixture), "--format", fmt, "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["format"] == fmt and report["variable_frames"] is True and report["max_abs_diff"] < 1e-4
    assert report["checked"] == [[2, 8, 32, 32, 3], [2, 4, 32, 32, 3]]
    # the file alone, on real clips of another length: the run's own model agrees
    clips = data.synthetic("order", n=3, frames=6, size=32, seed=7).batch(range(3))[0]
    model = runs.load(run_dir_fixture)
    expected = model(model.preprocess(clips)).detach().numpy()
    if fmt == "torchscript":
        got = torch.jit.load(str(out))(torch.from_numpy(clips)).detach().numpy()
    else:
        import onnxruntime

        got = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(None, {"clips": clips})[0]
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-3)


def test_without_out_the_file_goes_into_the_run_folder(run_dir_fixture, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(run_dir_fixture, run)
    assert main(["export", str(run), "--format", "onnx", "--frames", "4"]) == 0
    assert (run / "model.onnx").is_file()
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["checked"][0] == [2, 4, 32, 32, 3]


@pytest.mark.parametrize("args, message", [
    (["--format", "onnx", "--out", "x.pt"], "must end in .onnx"),
    (["--format", "torchscript", "--out", "x.onnx"], "must end in .pt or .ts"),
    (["--format", "onnx", "--frames", "1"], "--frames T"),
])
def test_bad_arguments_give_one_clear_line(run_dir_fixture, tmp_path, capsys, args, message):
    argv = ["export", str(run_dir_fixture), *[a if not a.startswith("x.") else str(tmp_path / a) for a in args]]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_a_missing_run_is_named(tmp_path, capsys):
    assert main(["export", str(tmp_path / "nope"), "--format", "onnx"]) == 2
    assert "does not exist" in capsys.readouterr().err
