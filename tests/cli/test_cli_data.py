"""`labkit data make` and `labkit data inspect`, through the CLI entry point."""
import numpy as np
import pandas as pd
import pytest

from labkit import data
from labkit.cli import main
from labkit.data.export import write_frames, write_video

CLIP = np.full((8, 16, 16, 3), 90, np.uint8)


def test_make_then_inspect_then_load(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "videos"
    assert main(["data", "make", "order", "--clips", "6", "--out", str(out), "--frames", "8", "--size", "32",
                 "--data-option", "gap=3", "--data-option", "flash_size=[6, 10]", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "wrote 6 clips" in printed and "data.folder(" in printed
    assert sorted(p.name for p in out.iterdir()) == [".labkit-dataset", "blue-first", "manifest.csv", "red-first"]
    assert len(list(out.glob("*/*.mp4"))) == 6
    assert main(["data", "inspect", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "red-first" in printed and "no problems" in printed and "32x32" in printed
    assert len(data.folder(out, frames=8, size=32, progress=False)) == 6


def test_inspect_exits_1_and_lists_problems(tmp_path, capsys):
    (tmp_path / "v" / "a").mkdir(parents=True)
    (tmp_path / "v" / "a" / "x.mp4").write_bytes(b"junk")
    assert main(["data", "inspect", str(tmp_path / "v")]) == 1
    printed = capsys.readouterr().out
    assert "1 problem(s)" in printed and "x.mp4" in printed and "cannot be decoded" in printed


def test_user_errors_are_one_line(tmp_path, capsys):
    assert main(["data", "inspect", str(tmp_path / "missing")]) == 2
    assert "missing: no such folder" in capsys.readouterr().err
    assert main(["data", "make", "spin", "--out", str(tmp_path / "o")]) == 2
    assert "unknown synthetic task 'spin'" in capsys.readouterr().err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    assert main(["data", "make", "order", "--out", str(tmp_path / "full")]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["data", "make", "order", "--out", str(tmp_path / "o2"), "--data-option", "gap"]) == 2
    assert "--data-option 'gap': write KEY=VALUE" in capsys.readouterr().err
    assert main(["data", "make", "order", "--out", str(tmp_path / "o3"), "--data-option", "gapp=3"]) == 2
    assert "unknown option(s) ['gapp']" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # one name for data options across the CLI: --option is gone
        main(["data", "make", "order", "--out", str(tmp_path / "o4"), "--option", "gap=3"])


def test_overwrite_replaces_what_was_written_and_keeps_other_files(tmp_path, capsys):
    out = tmp_path / "v"
    args = ["data", "make", "direction", "--out", str(out), "--frames", "4", "--size", "16", "--quiet"]
    assert main(args + ["--clips", "16"]) == 0
    (out / "notes.md").write_text("mine")
    assert main(args + ["--clips", "8", "--overwrite"]) == 0
    assert len(list(out.glob("*/*.mp4"))) == 8 and (out / "notes.md").read_text() == "mine"
    assert len(data.folder(out, frames=4, size=16, progress=False, cache_dir=False)) == 8


@pytest.mark.parametrize("fps", ["0", "-5"])
def test_a_bad_fps_is_refused_before_anything_is_written(tmp_path, capsys, fps):
    out = tmp_path / "v"
    assert main(["data", "make", "order", "--out", str(out), "--fps", fps, "--clips", "4", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"--fps={fps}: frames per second must be a positive number" in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_overwrite_never_deletes_a_folder_labkit_did_not_write(tmp_path, capsys):
    out = tmp_path / "mine"  # made by hand: clips and a manifest.csv naming them, but no .labkit-dataset
    write_video(out / "up" / "a.mp4", CLIP)
    write_frames(out / "down" / "b", CLIP)
    pd.DataFrame({"path": ["up/a.mp4", "down/b", "down"], "label": ["up", "down", "down"]}).to_csv(
        out / "manifest.csv", index=False)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    args = ["data", "make", "order", "--out", str(out), "--frames", "4", "--size", "16", "--clips", "4", "--quiet"]
    assert main(args + ["--overwrite"]) == 2
    assert "labkit did not write it (it has no .labkit-dataset" in capsys.readouterr().err
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def test_inspect_lists_a_damaged_header_instead_of_dying(tmp_path, capsys):
    path = write_video(tmp_path / "v" / "a" / "ok.mp4", CLIP)
    blob = bytearray(path.read_bytes())
    blob[blob.index(b"VideoHandler") + 1] ^= 0xC0  # the handler name's text is no longer UTF-8
    (tmp_path / "v" / "a" / "flipped.mp4").write_bytes(bytes(blob))
    assert main(["data", "inspect", str(tmp_path / "v")]) == 1
    printed = capsys.readouterr().out
    assert "1 problem(s)" in printed and "flipped.mp4" in printed and "damaged header" in printed
