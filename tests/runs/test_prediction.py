"""A trained run on new videos: `labkit predict` agrees with `labkit evaluate` on the same files,
and a timeline over a long video made of clips of three classes finds them in order."""
import tracemalloc

import av
import numpy as np
import pandas as pd
import pytest

from labkit import data, runs
from labkit.cli import main

COLOURS = {"red": (220, 40, 40), "green": (40, 200, 60), "blue": (40, 70, 230)}
FPS = 8


def _frames(colour, n, rng, size=16):
    """uint8 (n, size, size, 3): noise around one colour, so every frame shows its class."""
    base = np.array(COLOURS[colour], float)
    return np.clip(base + rng.normal(0, 25, (n, size, size, 3)), 0, 255).astype(np.uint8)


def _encode(path, frames):
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS, options={"crf": "10"})
        stream.width = stream.height = frames.shape[1]
        stream.pix_fmt = "yuv420p"
        for f in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        out.mux(stream.encode())
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run trained (CLI) on a folder of real mp4 clips of three colours, and held-out clips."""
    root = tmp_path_factory.mktemp("predict")
    rng = np.random.default_rng(0)
    for colour in COLOURS:
        for i in range(12):
            _encode(root / "train" / colour / f"{colour}{i}.mp4", _frames(colour, 8, rng))
        for i in range(3):
            _encode(root / "held_out" / colour / f"{colour}{i}.mp4", _frames(colour, 8, rng))
    run = root / "run"
    assert main(["train", "--data", str(root / "train"), "--frames", "8", "--size", "16", "--epochs", "3",
                 "--batch-size", "8", "--lr", "0.01", "--set", "conv_channels=4,8", "--set", "hidden_size=8",
                 "--threads", "1", "--out", str(run), "--no-progress", "--data-option", "cache_dir=false"]) == 0
    return root, run


def test_predict_agrees_with_evaluate_on_the_same_files(trained, tmp_path, capsys):
    root, run = trained
    capsys.readouterr()
    assert main(["evaluate", str(run), "--data", str(root / "held_out"), "--data-option", "cache_dir=false",
                 "--predictions", str(tmp_path / "ev.csv")]) == 0
    capsys.readouterr()
    assert main(["predict", str(run), str(root / "held_out"), "--out", str(tmp_path / "pred.csv")]) == 0
    printed = capsys.readouterr().out
    pred = pd.read_csv(tmp_path / "pred.csv")
    ev = pd.read_csv(tmp_path / "ev.csv")
    assert list(pred.columns[:3]) == ["path", "predicted", "probability"] and "top3_probability" in pred
    assert pred["seconds"].tolist() == [8 / FPS] * 9 and "top1" in printed
    assert pred["predicted"].tolist() == ev["predicted"].tolist() and pred["correct"].all()
    assert pred["label"].tolist() == ev["true"].tolist()


def test_predict_takes_files_and_skips_unreadable_ones(trained, tmp_path):
    root, run = trained
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video")
    files = [root / "held_out" / "red" / "red0.mp4", root / "held_out" / "blue" / "blue1.mp4", bad]
    with pytest.raises(ValueError, match="broken.mp4"):
        runs.predict(run, files)
    table = runs.predict(run, files, on_error="skip", top_k=2)
    assert table["predicted"].tolist() == ["red", "blue"] and "top3" not in table and "label" not in table
    assert table.attrs["skipped"]["path"].str.endswith("broken.mp4").all()


def test_a_timeline_over_a_long_video_finds_the_classes_in_order(trained, tmp_path, capsys):
    root, run = trained
    rng = np.random.default_rng(1)
    long_video = _encode(tmp_path / "long.mp4", np.concatenate([_frames(c, 24, rng) for c in ("green", "red", "blue")]))
    tl = runs.timeline(run, long_video, window=8, stride=4)
    assert list(tl.columns[:5]) == ["path", "start", "end", "predicted", "probability"] and list(tl.columns[5:]) == \
        sorted(COLOURS)
    assert tl["start"].tolist() == list(range(0, 65, 4)) and tl["end"].iloc[0] == 8
    assert runs.segments(tl)["label"].tolist() == ["green", "red", "blue"]
    seconds = runs.timeline(run, long_video, window=1.0, stride=0.5, unit="seconds")
    segs = runs.segments(seconds)
    assert segs["label"].tolist() == ["green", "red", "blue"] and segs["text"].iloc[1].startswith("red 0:0")
    assert main(["predict", str(run), str(long_video), "--window", "8", "--stride", "4",
                 "--out", str(tmp_path / "tl.jsonl")]) == 0
    assert "green 0–" in capsys.readouterr().out
    assert len((tmp_path / "tl.jsonl").read_text().splitlines()) == len(tl)


def test_streaming_holds_one_window_not_the_video(tmp_path):
    """Memory does not grow with the video: 1,200 frames of 64 x 64 through windows of 16."""
    video = _encode(tmp_path / "long.mp4", _frames("red", 1200, np.random.default_rng(0), size=64))
    whole = 1200 * 64 * 64 * 3
    tracemalloc.start()
    count = sum(1 for _ in data.sliding_windows(data.stream_frames(video, 64), window=16, stride=16))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 75 and peak < whole / 10, f"peak {peak} bytes for a {whole}-byte video"


def test_bad_timeline_arguments(trained, capsys):
    root, run = trained
    video = root / "held_out" / "red" / "red0.mp4"
    assert main(["predict", str(run), str(video), "--window", "8"]) == 2
    assert "--window and --stride go together" in capsys.readouterr().err
    assert main(["predict", str(run), str(video), "--window", "0", "--stride", "1"]) == 2
    with pytest.raises(ValueError, match="unit="):
        runs.timeline(run, video, 8, 4, unit="minutes")


def test_the_timeline_figure(trained):
    from labkit import viz

    root, run = trained
    tl = runs.timeline(run, root / "held_out" / "red" / "red0.mp4", window=4, stride=2)
    fig = viz.timeline(tl, runs.segments(tl))
    assert [t.name for t in fig.data] == sorted(COLOURS) and fig.layout.shapes
