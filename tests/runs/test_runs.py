"""runs.table over healthy and damaged run folders; runs.load gives back the best model."""
import json
import shutil
import warnings

import numpy as np
import pytest
import torch

from labkit import runs


@pytest.fixture
def root(tmp_path, run_dir_fixture):
    """Two healthy copies of the fixture run, a half-written one and a corrupt one."""
    shutil.copytree(run_dir_fixture, tmp_path / "a")
    shutil.copytree(run_dir_fixture, tmp_path / "b")
    config = json.loads((tmp_path / "b" / "config.json").read_text())
    config["train"]["lr"] = 0.5
    (tmp_path / "b" / "config.json").write_text(json.dumps(config))
    half = tmp_path / "half"  # a crash after epoch 1: no metrics.json yet, no best.pt
    half.mkdir()
    shutil.copy(run_dir_fixture / "config.json", half)
    shutil.copy(run_dir_fixture / "history.csv", half)
    shutil.copy(run_dir_fixture / "last.pt", half)
    bad = tmp_path / "corrupt"
    bad.mkdir()
    (bad / "config.json").write_text("{not json")
    (bad / "metrics.json").write_text("[1, 2]")
    (tmp_path / "notes").mkdir()  # not a run: ignored
    (tmp_path / "notes" / "readme.txt").write_text("hello")
    return tmp_path


def test_table_reports_damaged_runs_without_failing(root, trained_order_result):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = runs.table(root)
    warned = " ".join(str(w.message) for w in caught)
    assert "corrupt" in warned and "half" in warned
    assert t["run"].tolist() == ["a", "b", "corrupt", "half"]
    t = t.set_index("run")
    assert t.loc["a", "problems"] == "" and t.loc["b", "problems"] == ""
    assert t.loc["a", "train.lr"] == pytest.approx(1e-2) and t.loc["b", "train.lr"] == 0.5
    assert t.loc["a", "model.hidden_size"] == 16
    assert t.loc["a", "best_val_accuracy"] == pytest.approx(trained_order_result.best_val_accuracy)
    assert t.loc["a", "epochs"] == len(trained_order_result.history)
    assert "config.json unreadable" in t.loc["corrupt", "problems"]
    assert "metrics.json is not a JSON object" in t.loc["corrupt", "problems"]
    assert "missing metrics.json" in t.loc["half", "problems"] and "missing best.pt" in t.loc["half", "problems"]
    # the half-written run still shows its last epoch from history.csv
    assert t.loc["half", "final_val_accuracy"] == pytest.approx(trained_order_result.history["val_accuracy"].iloc[-1])


def test_table_of_a_single_run_folder_and_of_an_empty_root(run_dir_fixture, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a healthy run raises no warning
        t = runs.table(run_dir_fixture)
    assert len(t) == 1 and t["problems"].iloc[0] == ""
    assert runs.table(tmp_path).empty
    with pytest.raises(FileNotFoundError, match="not a folder"):
        runs.table(tmp_path / "nope")


def test_load_gives_the_best_model(run_dir_fixture, trained_order_model, tiny_order):
    model = runs.load(run_dir_fixture)
    assert not model.training
    for (k, v), (k2, v2) in zip(model.state_dict().items(), trained_order_model.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    clips = np.stack([tiny_order[i][0] for i in range(4)])
    np.testing.assert_allclose(model.predict_proba(clips), trained_order_model.predict_proba(clips), atol=1e-6)
    last = runs.load(run_dir_fixture, which="last")
    assert last.config == model.config


def test_history_and_config(run_dir_fixture, trained_order_result):
    assert runs.history(run_dir_fixture)["epoch"].tolist() == trained_order_result.history["epoch"].tolist()
    assert runs.read_config(run_dir_fixture)["model"]["num_classes"] == 2


def test_load_from_a_folder_without_a_run_explains(tmp_path):
    with pytest.raises(FileNotFoundError, match="run folder"):
        runs.load(tmp_path)
    with pytest.raises(ValueError, match="which="):
        runs.load(tmp_path, which="worst")
