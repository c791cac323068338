"""Run folders: atomic writes, weights_only checkpoints, and bit-identical resume."""
import errno
import json

import pandas as pd
import pytest
import torch

from labkit import train
from labkit.runs.record import load_checkpoint, save_atomic, write_text_atomic
from labkit.errors import RunError
from labkit.train import Callback


FAST = dict(batch_size=8, progress=False, device="cpu", threads=1)  # 1 thread: tiny ops, busy cores


def test_run_folder_files(micro_split, micro_model, tmp_path):
    tr, va = micro_split
    run = tmp_path / "run"
    result = train.fit(micro_model, tr, va, epochs=2, run_dir=run, **FAST)
    assert sorted(p.name for p in run.iterdir()) == ["batches.csv", "best.pt", "config.json", "history.csv", "last.pt", "metrics.json"]
    config = json.loads((run / "config.json").read_text())
    assert config["model"] == json.loads(json.dumps(micro_model.config.to_dict()))
    assert config["train"]["epochs"] == 2 and config["train"]["batch_size"] == 8
    assert config["data"]["train"]["clips"] == len(tr) and config["data"]["val"]["clip_shape"] == [4, 16, 16, 3]
    # how the clips were made travels with the run: the recipe rebuilds exactly the training clips
    recipe = config["data"]["train"]["recipe"]
    assert recipe == tr.recipe and recipe["of"]["options"]["gap"] == 2 and recipe["of"]["seed"] == 0
    history = pd.read_csv(run / "history.csv")
    pd.testing.assert_frame_equal(history, result.history, check_dtype=False)
    batches = pd.read_csv(run / "batches.csv")  # every update: 24 clips in batches of 8, 2 epochs
    assert batches[["epoch", "batch", "step"]].values.tolist() == [[e, b, 3 * (e - 1) + b] for e in (1, 2) for b in (1, 2, 3)]
    per_epoch = batches.groupby("epoch")["grad_norm"].mean().to_numpy()
    assert per_epoch == pytest.approx(history["grad_norm"].to_numpy())
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics == json.loads(json.dumps(result.metrics))
    assert metrics["best_epoch"] == result.best_epoch and metrics["epochs"] == 2


def test_checkpoints_load_with_weights_only(micro_split, micro_model, tmp_path):
    tr, va = micro_split
    train.fit(micro_model, tr, va, epochs=1, scheduler="onecycle", run_dir=tmp_path / "run", **FAST)
    for name in ("best.pt", "last.pt"):
        ckpt = torch.load(tmp_path / "run" / name, weights_only=True)  # raises on anything but plain data
        assert set(ckpt["model"]) == set(micro_model.state_dict())
    last = load_checkpoint(tmp_path / "run" / "last.pt")
    assert {"optimizer", "scheduler", "history", "epoch", "config"} <= set(last)


def test_an_existing_run_is_not_overwritten(micro_split, micro_model, tmp_path):
    tr, va = micro_split
    train.fit(micro_model, tr, va, epochs=1, run_dir=tmp_path / "run", **FAST)
    with pytest.raises(ValueError, match="resume="):
        train.fit(micro_model, tr, va, epochs=1, run_dir=tmp_path / "run", **FAST)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    save_atomic({"x": torch.ones(3)}, path)

    def broken_save(obj, f):
        f.write(b"half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(RunError, match="last.pt: could not be written \\(the disk is full\\); the previous version is kept"):
        save_atomic({"x": torch.zeros(3)}, path)
    assert torch.equal(load_checkpoint(path)["x"], torch.ones(3))  # old content intact
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temp file left behind
    write_text_atomic("a,b\n", tmp_path / "h.csv")
    assert (tmp_path / "h.csv").read_text() == "a,b\n"


def test_missing_checkpoint_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="run folder"):
        load_checkpoint(tmp_path / "last.pt")


def _weights(model) -> dict:
    return {k: v.clone() for k, v in model.state_dict().items()}


def _assert_bit_identical(a: dict, b: dict):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_resume_reproduces_an_uninterrupted_run_exactly(micro_split, tmp_path, micro):
    """2 epochs + resume to 4 == 4 epochs straight (augmentation and dropout on, Adam state)."""
    tr, va = micro_split
    kw = dict(lr=1e-2, seed=5, **FAST)
    straight = train.fit(micro(drop_rate=0.2), tr, va, epochs=4, run_dir=tmp_path / "a", **kw)
    train.fit(micro(drop_rate=0.2), tr, va, epochs=2, run_dir=tmp_path / "b", **kw)
    resumed = train.fit(micro(drop_rate=0.2), tr, va, epochs=4, resume=tmp_path / "b", **kw)
    _assert_bit_identical(load_checkpoint(tmp_path / "a" / "last.pt")["model"],
                          load_checkpoint(tmp_path / "b" / "last.pt")["model"])
    _assert_bit_identical(_weights(straight.model), _weights(resumed.model))
    cols = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "grad_norm", "lr"]
    pd.testing.assert_frame_equal(straight.history[cols], resumed.history[cols])
    assert resumed.best_epoch == straight.best_epoch


def test_resume_after_a_stop_keeps_the_schedule(micro_split, tmp_path, micro):
    """A cosine schedule over 4 epochs, stopped after 2 and resumed == never stopped."""
    tr, va = micro_split
    kw = dict(lr=1e-2, seed=1, scheduler="cosine", optimizer="sgd", **FAST)

    class StopAt2(Callback):
        def on_epoch_end(self, state):
            state.stop_requested = state.epoch == 2

    straight = train.fit(micro(), tr, va, epochs=4, run_dir=tmp_path / "a", **kw)
    stopped = train.fit(micro(), tr, va, epochs=4, run_dir=tmp_path / "b", callbacks=[StopAt2()], **kw)
    assert len(stopped.history) == 2
    resumed = train.fit(micro(), tr, va, epochs=4, resume=tmp_path / "b", **kw)
    assert resumed.history["lr"].tolist() == straight.history["lr"].tolist()
    _assert_bit_identical(load_checkpoint(tmp_path / "a" / "last.pt")["model"],
                          load_checkpoint(tmp_path / "b" / "last.pt")["model"])
    _assert_bit_identical(_weights(straight.model), _weights(resumed.model))


def test_resume_refuses_a_different_model(micro_split, micro_model, tmp_path, micro):
    tr, va = micro_split
    train.fit(micro_model, tr, va, epochs=1, run_dir=tmp_path / "run", **FAST)
    with pytest.raises(ValueError, match="head_hidden"):
        train.fit(micro(), tr, va, epochs=2, resume=tmp_path / "run", **FAST)


def test_resume_into_another_folder_forks_the_run(micro_split, micro_model, tmp_path):
    tr, va = micro_split
    train.fit(micro_model, tr, va, epochs=1, run_dir=tmp_path / "a", **FAST)
    forked = train.fit(micro_model, tr, va, epochs=2, resume=tmp_path / "a", run_dir=tmp_path / "b", **FAST)
    assert len(forked.history) == 2 and len(pd.read_csv(tmp_path / "b" / "history.csv")) == 2
    assert (tmp_path / "b" / "best.pt").is_file()
    assert len(pd.read_csv(tmp_path / "a" / "history.csv")) == 1  # the original is left as it was
    with pytest.raises(ValueError, match="patience"):
        train.fit(micro_model, tr, va, epochs=1, early_stopping=True, **FAST)


def test_a_run_folder_has_one_writer(micro_split, micro_model, tmp_path):
    from labkit.runs.record import writer_lock

    tr, va = micro_split
    with writer_lock(tmp_path / "run"):  # as if another training run were writing there
        with pytest.raises(RunError, match="being written by process"):
            train.fit(micro_model, tr, va, epochs=1, run_dir=tmp_path / "run", **FAST)
    train.fit(micro_model, tr, va, epochs=1, run_dir=tmp_path / "run", **FAST)  # free again
