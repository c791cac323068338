"""`labkit explain RUN_DIR --data ... --index I --method M --out page.html`."""
from __future__ import annotations

import json

import pytest

from labkit.cli import main


def test_writes_a_standalone_page(run_dir_fixture, tmp_path, capsys):
    out = tmp_path / "page.html"
    rc = main(["explain", str(run_dir_fixture), "--data", "synthetic:order", "--clips", "8", "--index", "3",
               "--method", "integrated_gradients", "--param", "n_steps=8", "--param", "baseline=black",
               "--out", str(out)])
    assert rc == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "integrated_gradients" in page
    assert "<script src=" not in page and "<script charset" not in page  # plotly.js inlined: no network
    assert "plotly.js v" in page
    assert len(page) > 1_000_000 and page.count("Plotly.newPlot") == 3
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["index"] == 3 and len(summary["frame_scores"]) == 8
    assert summary["label"] in ("red-first", "blue-first")
    # integrated gradients reports how well its attributions add up, on the page and in the JSON
    assert "attributions sum to" in page and summary["completeness_error"] >= 0


@pytest.mark.parametrize("args, message", [
    (["--method", "lime"], "invalid choice"),
    (["--index", "99"], "--index 99 is out of range"),
    (["--param", "n_steps"], "write KEY=VALUE"),
    (["--param", "steps=4"], "unknown parameter"),
    (["--target", "green-first"], "unknown target class"),
    (["--data", "synthetic:direction"], "classes"),
])
def test_bad_arguments_give_one_clear_line(run_dir_fixture, tmp_path, capsys, args, message):
    base = {"--data": "synthetic:order", "--index": "0", "--method": "saliency"}
    extra = dict(zip(args[::2], args[1::2]))
    argv = ["explain", str(run_dir_fixture), "--clips", "8", "--out", str(tmp_path / "p.html")]
    for k, v in {**base, **extra}.items():
        argv += [k, v]
    if message == "invalid choice":
        with pytest.raises(SystemExit):
            main(argv)
    else:
        assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_missing_run_folder(tmp_path, capsys):
    rc = main(["explain", str(tmp_path / "nope"), "--data", "synthetic:order", "--out", str(tmp_path / "p.html")])
    assert rc == 2 and "does not exist" in capsys.readouterr().err


def test_without_data_a_clip_of_the_runs_own_validation_split(run_dir_fixture, tmp_path, capsys):
    rc = main(["explain", str(run_dir_fixture), "--index", "1", "--method", "saliency", "--out", str(tmp_path / "p.html")])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["clip"] == "clip 1 of its val clips" and summary["label"] in ("red-first", "blue-first")
    assert "its val clips" in (tmp_path / "p.html").read_text()


@pytest.mark.parametrize("suffix", [".mp4", ".gif", ".html"])
def test_a_video_of_yours_explained_into_a_page_a_video_or_a_gif(run_dir_fixture, tmp_path, capsys, suffix):
    """--video FILE: read with the run's own frames and size (8 x 32 x 32 here), whatever the file's."""
    import av
    import numpy as np

    video = tmp_path / "mine.mp4"
    rng = np.random.default_rng(0)
    with av.open(str(video), "w") as f:
        stream = f.add_stream("libx264", rate=8)
        stream.width = stream.height = 48
        stream.pix_fmt = "yuv420p"
        for frame in rng.integers(0, 256, (12, 48, 48, 3), dtype=np.uint8):
            f.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        f.mux(stream.encode())
    out = tmp_path / f"explained{suffix}"
    assert main(["explain", str(run_dir_fixture), "--video", str(video), "--method", "saliency", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["clip"] == "mine.mp4" and summary["label"] is None and len(summary["frame_scores"]) == 8
    if suffix == ".mp4":
        with av.open(str(out)) as f:
            assert sum(1 for _ in f.decode(video=0)) == 8
    assert out.stat().st_size > 1000
    assert main(["explain", str(run_dir_fixture), "--video", str(video), "--out", str(tmp_path / "x.png")]) == 2
    assert ".html or .htm or .mp4 or .gif" in capsys.readouterr().err
