"""Resuming: a run keeps its settings unless told otherwise (and records every change), schedules
stretch to a longer run, a run killed before its first checkpoint restarts, and a run folder
refuses what does not belong to it."""
import json
import warnings

import pytest

from labkit import data, train
from labkit.errors import RunError
from labkit.runs import load_checkpoint

FAST = dict(batch_size=8, progress=False, device="cpu", threads=1)


@pytest.mark.parametrize("scheduler", ["cosine", "onecycle", "step"])
def test_a_longer_run_continues_the_schedule_of_the_longer_run(micro_split, micro, tmp_path, scheduler):
    tr, va = micro_split
    kw = dict(lr=1e-2, scheduler=scheduler, **FAST)
    straight = train.fit(micro(), tr, va, epochs=4, run_dir=tmp_path / "a", **kw)
    train.fit(micro(), tr, va, epochs=2, run_dir=tmp_path / "b", **kw)
    longer = train.fit(micro(), tr, va, epochs=4, resume=tmp_path / "b", **kw)  # used to crash (onecycle)
    assert longer.history["epoch"].tolist() == [1, 2, 3, 4]
    # epochs 3-4 follow the 4-epoch schedule from where the run stood: no restart from lr 0
    assert longer.history["lr"].tolist()[2:] == pytest.approx(straight.history["lr"].tolist()[2:])
    assert longer.history["lr"].iloc[2] > 0


def test_resume_keeps_the_runs_settings_and_records_changes(micro_split, micro, tmp_path):
    tr, va = micro_split
    train.fit(micro(), tr, va, epochs=1, lr=1e-2, seed=3, run_dir=tmp_path / "r", **FAST)
    kept = train.fit(micro(), tr, va, epochs=2, resume=tmp_path / "r", progress=False)  # no settings given
    assert kept.history["lr"].tolist() == [1e-2, 1e-2]
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["train"]["seed"] == 3 and config["train"]["epochs"] == 2 and config.get("changes") == []
    changed = train.fit(micro(), tr, va, epochs=3, lr=1e-3, resume=tmp_path / "r", progress=False)
    assert changed.history["lr"].tolist() == [1e-2, 1e-2, 1e-3]
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["train"]["lr"] == 1e-3
    assert config["changes"] == [{"epoch": 3, "setting": "lr", "from": 1e-2, "to": 1e-3}]
    assert load_checkpoint(tmp_path / "r" / "last.pt")["config"]["changes"] == config["changes"]
    with pytest.raises(RunError, match="cannot change its optimizer"):
        train.fit(micro(), tr, va, epochs=4, optimizer="sgd", resume=tmp_path / "r", progress=False)


def test_resume_refuses_other_data(micro_split, micro, tmp_path):
    tr, va = micro_split
    train.fit(micro(), tr, va, epochs=1, run_dir=tmp_path / "r", **FAST)
    other = data.split(data.synthetic("order", n=32, frames=4, size=16, seed=9), (0.75, 0.25), seed=0)[0]
    with pytest.raises(RunError, match="other data"):
        train.fit(micro(), other, va, epochs=2, resume=tmp_path / "r", **FAST)


def test_a_run_killed_before_its_first_checkpoint_restarts_in_place(micro_split, micro, tmp_path):
    tr, va = micro_split
    run = tmp_path / "r"
    train.fit(micro(), tr, va, epochs=1, run_dir=run, **FAST)
    for name in ("last.pt", "best.pt", "history.csv", "batches.csv", "metrics.json"):  # as if killed in epoch 1
        (run / name).unlink()
    (run / ".last.pt.12345.tmp").write_bytes(b"half")  # and its half-written checkpoint
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = train.fit(micro(), tr, va, epochs=2, resume=run, **FAST)
    assert "starts again" in str(caught[0].message) and len(result.history) == 2
    assert sorted(p.name for p in run.iterdir()) == ["batches.csv", "best.pt", "config.json", "history.csv",
                                                     "last.pt", "metrics.json"]  # the stale temp file is gone
    with pytest.raises(FileNotFoundError, match="no run there"):
        train.fit(micro(), tr, va, epochs=2, resume=tmp_path / "nothing", **FAST)


def test_empty_or_foreign_validation_sets_are_refused(micro_split, micro):
    tr, va = micro_split
    with pytest.raises(ValueError, match="validation set is empty; pass val_ds=None"):
        train.fit(micro(), tr, data.subset(va, []), epochs=1, **FAST)
    direction = data.synthetic("direction", n=16, frames=4, size=16)
    with pytest.raises(ValueError, match="classes"):
        train.fit(micro(), tr, direction, epochs=1, **FAST)
