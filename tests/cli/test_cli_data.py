"""`labkit data make` and `labkit data inspect`, through the CLI entry point."""
import pytest

from labkit import data
from labkit.cli import main


def test_make_then_inspect_then_load(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "videos"
    assert main(["data", "make", "order", "--clips", "6", "--out", str(out), "--frames", "8", "--size", "32",
                 "--data-option", "gap=3", "--data-option", "flash_size=[6, 10]", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "wrote 6 clips" in printed and "data.folder(" in printed
    assert sorted(p.name for p in out.iterdir()) == ["blue-first", "manifest.csv", "red-first"]
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
