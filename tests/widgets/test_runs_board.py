"""RunsBoard: the runs table sorted by any column, two runs compared, damaged runs reported."""
import json
import shutil

import pandas as pd
import pytest
import torch
from ipywidgets.embed import embed_data

from labkit import data, models, train
from labkit.widgets import RunsBoard
from labkit.widgets.runs_board import config_diff, varying_columns


@pytest.fixture(scope="module")
def root(tmp_path_factory, tiny_order, tiny_config):
    """Two real runs (GRU 8 and LSTM 16, 2 epochs each) and a damaged folder."""
    root = tmp_path_factory.mktemp("runs")
    tr, va = data.split(tiny_order, (0.75, 0.25), seed=0)
    for name, kw in (("gru8", dict(hidden_size=8)), ("lstm16", dict(cell="lstm", hidden_size=16))):
        torch.manual_seed(0)
        model = models.DCRN(tiny_config.replace(num_classes=2, **kw))
        train.fit(model, tr, va, epochs=2, batch_size=16, augment=False, progress=False, run_dir=root / name,
                  device="cpu")
    (root / "broken").mkdir()
    (root / "broken" / "config.json").write_text("{")
    return root


def test_table_shows_runs_what_varies_and_problems(root):
    board = RunsBoard(root)
    shown = board.shown()
    assert set(shown["run"]) == {"gru8", "lstm16", "broken"}
    assert {"model.cell", "model.hidden_size", "best_val_accuracy", "problems"} <= set(shown.columns)
    assert "model.kernel_size" not in shown  # the same in every run
    assert board.sort_by.value == "best_val_accuracy" and shown["run"].iloc[-1] == "broken"
    assert "1 with problems" in board.message.value and "unreadable" in board.table_html.value


def test_sorting_by_a_column_and_direction(root):
    board = RunsBoard(root)
    board.sort_by.value = "model.hidden_size"
    board.ascending.value = True
    assert list(board.shown()["run"]) == ["gru8", "lstm16", "broken"]
    board.ascending.value = False
    assert list(board.shown()["run"])[:2] == ["lstm16", "gru8"]
    assert board.table_html.value.index("lstm16") < board.table_html.value.index("gru8")
    board.all_columns.value = True
    assert "model.kernel_size" in board.shown()
    with pytest.raises(ValueError, match="sort_by='nope'"):
        RunsBoard(root, sort_by="nope")


def test_two_runs_compared(root):
    board = RunsBoard(root, sort_by="run")
    board.run_a.value, board.run_b.value = "gru8", "lstm16"
    names = {t.name for t in board.curves.data}
    assert {"gru8 train", "gru8 val", "lstm16 train", "lstm16 val"} <= names
    assert "model.cell" in board.diff.value and "model.kernel_size" not in board.diff.value
    board.run_b.value = "broken"  # no history: reported, the other run still drawn
    assert "history.csv" in board.diff.value and len(board.curves.data) == 4


def test_overview_and_refresh_pick_up_new_runs(root, tmp_path):
    copy = tmp_path / "runs"
    shutil.copytree(root, copy)
    board = RunsBoard(copy)
    assert board.overview.data[0].type == "parcoords"
    shutil.copytree(copy / "gru8", copy / "gru8-again")
    board.refresh_button.click()
    assert "gru8-again" in set(board.shown()["run"]) and "gru8-again" in board.run_a.options
    json.dumps(embed_data(views=[board])["manager_state"])


def test_an_empty_or_missing_root_is_a_message(tmp_path):
    assert "no runs" in RunsBoard(tmp_path).message.value
    assert "not a folder" in RunsBoard(tmp_path / "nope").message.value


def test_helpers():
    t = pd.DataFrame({"run": ["a", "b"], "model.cell": ["gru", "lstm"], "model.k": [3, 3],
                      "model.conv_channels": [(8, 16), (8, 16)], "best_val_accuracy": [0.5, 0.6]})
    assert varying_columns(t) == ["model.cell"]
    d = config_diff(t.iloc[0], t.iloc[1])
    assert list(d["setting"]) == ["model.cell"] and list(d["B"]) == ["lstm"]


def test_the_filter_narrows_the_rows_and_a_bad_query_says_why(root):
    board = RunsBoard(root)
    board.filter.value = "hiden_size > 8"  # a typo
    assert "not a query" in board.message.value and "hiden_size" in board.message.value and "Traceback" not in board.message.value
    assert len(board.shown()) == 3  # a bad filter keeps every run, and says so
    board.filter.value = "cell == 'gru'"  # short names work
    assert list(board.shown()["run"]) == ["gru8"] and "1 of 3 run(s) match" in board.message.value
    assert "lstm16" not in board.table_html.value
    board.filter.value = "model.hidden_size >= 16 and model.cell != 'gru'"
    assert list(board.shown()["run"]) == ["lstm16"]
    board.filter.value = "LSTM"  # plain text, any case
    assert list(board.shown()["run"]) == ["lstm16"]
    board.filter.value = ""
    assert len(board.shown()) == 3 and board.message.value.startswith("3 run(s)")


def test_default_columns_put_the_swept_settings_first_and_the_sort_list_is_short(root):
    board = RunsBoard(root)
    cols = list(board.shown().columns)
    assert cols[:3] == ["run", "model.cell", "model.hidden_size"] and "stopped" not in cols
    assert len(board.sort_by.options) == len(cols) < 15 and "model.kernel_size" not in board.sort_by.options
    board.all_columns.value = True
    assert "model.kernel_size" in board.sort_by.options
    assert 'white-space:nowrap">gru8' in board.table_html.value  # run names never wrap


def test_the_overview_includes_every_swept_setting(root):
    board = RunsBoard(root)
    assert [d.label for d in board.overview.data[0].dimensions] == ["model.cell", "model.hidden_size",
                                                                   "best_val_accuracy"]


def test_table_helpers():
    from labkit.widgets.runs_table import default_columns, filter_runs, sort_runs, swept_settings

    t = pd.DataFrame({"run": ["r10", "r2", "r3"], "model.conv_channels": [(16, 32), (8, 16), None],
                      "train.lr": [0.01, 0.003, 0.003], "data.train.recipe.indices": [(1,), (2,), (3,)],
                      "best_val_accuracy": [0.5, 0.9, 0.7], "stopped": [None, None, None],
                      "problems": ["", "", ""]})
    assert swept_settings(t) == ["model.conv_channels", "train.lr"]  # not the data's recipe
    assert default_columns(t) == ["run", "model.conv_channels", "train.lr", "best_val_accuracy"]
    assert list(sort_runs(t, "run")["run"]) == ["r2", "r3", "r10"]  # natural order
    assert list(sort_runs(t, "model.conv_channels")["run"]) == ["r2", "r10", "r3"]  # missing last
    assert list(sort_runs(t, "model.conv_channels", ascending=False)["run"]) == ["r10", "r2", "r3"]
    assert list(sort_runs(t, "train.lr", ascending=False)["run"]) == ["r10", "r2", "r3"]  # ties stay in order
    assert list(filter_runs(t, "lr < 0.005 and best_val_accuracy > 0.8")["run"]) == ["r2"]
    assert list(filter_runs(t, "conv_channels == '(8, 16)'")["run"]) == ["r2"]
    assert list(filter_runs(t, "train.lr > 0.005 or `train.lr` < 0.001")["run"]) == ["r10"]
    assert list(filter_runs(t, "16, 32", columns=["model.conv_channels"])["run"]) == ["r10"]
    with pytest.raises(ValueError, match="hiden_size"):
        filter_runs(t, "hiden_size > 3")
    with pytest.raises(ValueError, match="not a yes/no"):
        filter_runs(t, "`train.lr` * 2 + (lr > 0)")
