"""sweep(): one run per grid point into one root, resumable, returning a runs table for summarize."""
import json

import pytest

from labkit import models, runs, train
from labkit.train.sweeps import grid_points, run_name

FAST = dict(batch_size=8, device="cpu", threads=1, progress=False)


def _tiny(seed, **settings):
    return models.preset("default", num_classes=2, img_size=16, conv_channels=(4,), hidden_size=8,
                         head_hidden=0, seed=seed, **settings)


def test_grid_points_and_names():
    points = grid_points({"cell": ["rnn", "gru"], "seed": [0, 1]})
    assert points == [{"cell": "rnn", "seed": 0}, {"cell": "rnn", "seed": 1},
                      {"cell": "gru", "seed": 0}, {"cell": "gru", "seed": 1}]

    assert run_name({"conv_channels": (8, 16), "lr": 0.003}) == "conv_channels=8-16,lr=0.003"
    pairs = [{"optimizer": "sgd", "lr": 0.01}, {"optimizer": "adam", "lr": 0.003}]
    assert grid_points(pairs) == pairs
    with pytest.raises(ValueError, match="same keys"):
        grid_points([{"lr": 0.1}, {"optimizer": "sgd"}])
    with pytest.raises(ValueError, match="non-empty list"):
        train.sweep(_tiny, None, None, {"cell": "rnn"}, "x")


def test_sweep_trains_each_point_once_and_resumes(micro_split, tmp_path):
    tr, va = micro_split
    grid = {"cell": ["rnn", "gru"], "seed": [0, 1]}
    table = train.sweep(_tiny, tr, va, grid, tmp_path / "s", epochs=1, **FAST)
    assert list(table["run"]) == ["cell=rnn,seed=0", "cell=rnn,seed=1", "cell=gru,seed=0", "cell=gru,seed=1"]
    assert list(table["cell"]) == ["rnn", "rnn", "gru", "gru"] and list(table["seed"]) == [0, 1, 0, 1]
    assert (table["model.cell"] == table["cell"]).all() and (table["train.seed"] == table["seed"]).all()
    assert table["best_val_accuracy"].between(0, 1).all() and (table["problems"] == "").all()
    # the seed seeds the model's initial weights too: two seeds, two different starts
    config = json.loads((tmp_path / "s" / "cell=rnn,seed=1" / "config.json").read_text())
    assert config["train"]["seed"] == 1

    mtimes = {p.name: (p / "metrics.json").stat().st_mtime_ns for p in (tmp_path / "s").iterdir()}
    again = train.sweep(_tiny, tr, va, {**grid, "seed": [0, 1, 2]}, tmp_path / "s", epochs=1, **FAST)
    assert len(again) == 6  # only the two new seeds trained
    for name, t in mtimes.items():
        assert (tmp_path / "s" / name / "metrics.json").stat().st_mtime_ns == t, name
    longer = train.sweep(_tiny, tr, va, {"cell": ["rnn"], "seed": [0]}, tmp_path / "s", epochs=2, **FAST)
    assert longer["epochs"].tolist() == [2]  # continued from its last.pt, not restarted
    summary = runs.summarize(again, by="cell")
    assert list(summary["cell"]) == ["rnn", "gru"] and list(summary["n"]) == [3, 3]


def test_a_root_holding_other_settings_is_refused(micro_split, tmp_path):
    tr, va = micro_split
    train.sweep(_tiny, tr, va, {"seed": [0]}, tmp_path / "s", epochs=1, lr=1e-3, **FAST)
    with pytest.raises(ValueError, match="train.lr"):
        train.sweep(_tiny, tr, va, {"seed": [0]}, tmp_path / "s", epochs=1, lr=1e-2, **FAST)


def test_a_preset_name_builds_for_the_data(micro_split, tmp_path):
    tr, va = micro_split
    table = train.sweep("frame-only", tr, va, {"hidden_size": [8]}, tmp_path / "p", epochs=1, **FAST)
    assert table["model.img_size"].tolist() == [16] and table["model.cell"].tolist() == ["none"]


def test_one_bar_counts_every_run_of_several_sweeps(micro_split, tmp_path, monkeypatch):
    """Inside train.one_bar, sweeps (and pretrain) tick the one bar, its total grown by their runs;
    no sweep draws a bar of its own."""
    from labkit.train import progress

    made = []
    real = progress.tqdm
    monkeypatch.setattr(progress, "tqdm", lambda *a, **k: made.append(k.get("desc")) or real(*a, **k))
    tr, va = micro_split
    fast = {k: v for k, v in FAST.items() if k != "progress"}
    with train.one_bar("lesson", progress=True) as bar:
        train.sweep(_tiny, tr, va, {"seed": [0, 1]}, tmp_path / "a", epochs=1, **fast)
        assert (bar.n, bar.total) == (2, 2)
        train.sweep(_tiny, tr, va, {"seed": [0, 1, 2]}, tmp_path / "a", epochs=1, **fast)  # two of them done
        with progress.counted_run("pretrain") as counted:
            assert counted
        assert (bar.n, bar.total) == (6, 6)
    assert made == ["lesson"]
    train.sweep(_tiny, tr, va, {"seed": [0]}, tmp_path / "a", epochs=1, **fast)  # outside: a bar of its own
    assert made == ["lesson", "sweep a"]


def test_in_jupyter_the_one_bars_widget_grows_with_its_total(monkeypatch):
    from tqdm.notebook import tqdm as notebook_tqdm

    from labkit.train import progress

    monkeypatch.setattr(progress, "tqdm", notebook_tqdm)
    with train.one_bar("lesson") as bar:
        progress.runs_bar(3, "sweep", True)
        bar.update(2)
        bar.refresh()  # tqdm redraws at most every 0.1 s
        assert bar.container.children[1].max == 3 and bar.container.children[1].value == 2
