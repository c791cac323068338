"""Self-supervised pretraining: pretext data made from clips without labels, a run written as fit
writes one (history, checkpoints, resume, one writer), the body trained and the head left alone,
and the same call under torchrun."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from labkit import data, models, runs, train
from labkit.runs import record

ROOT = Path(__file__).resolve().parents[2]
SMALL = dict(img_size=16, conv_channels=(4,), hidden_size=8, head_hidden=8)


@pytest.fixture(scope="module")
def unlabelled():
    return data.synthetic("direction", n=24, frames=6, size=16, seed=0)


def test_pretext_data_shows_each_clip_as_it_is_and_changed(unlabelled):
    for task in train.PRETEXT_TASKS:
        ds = train.pretext_dataset(unlabelled, task, seed=3)
        assert len(ds) == 48 and ds.labels.tolist()[:4] == [0, 1, 0, 1] and ds.num_classes == 2
        clip = unlabelled[5][0]
        assert np.array_equal(ds[10][0], clip)
        changed = ds[11][0]
        if task == "arrow_of_time":
            assert np.array_equal(changed, clip[::-1])
        else:  # the same frames in another order
            assert sorted(f.tobytes() for f in changed) == sorted(f.tobytes() for f in clip)
            assert not np.array_equal(changed, clip)
        assert np.array_equal(ds[11][0], changed)  # a row is always the same clip
        assert ds.groups[10] == ds.groups[11]  # a split keeps both versions together
        assert ds.recipe == {"kind": "pretext", "task": task, "seed": 3, "of": unlabelled.recipe}
    with pytest.raises(ValueError, match="unknown pretext task 'jigsaw'"):
        train.pretext_dataset(unlabelled, "jigsaw")


def test_pretrain_writes_a_run_trains_the_body_and_leaves_the_head(unlabelled, tmp_path):
    model = models.preset("default", num_classes=8, seed=0, **SMALL)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = train.pretrain(model, unlabelled, "order_verification", epochs=2, batch_size=8, lr=1e-2,
                            run_dir=tmp_path / "pre", progress=False, device="cpu")
    assert sorted(p.name for p in (tmp_path / "pre").iterdir()) == sorted(record.RUN_FILES)
    assert list(result.history["epoch"]) == [1, 2] and result.model.config.num_classes == 2
    config = record.read_config(tmp_path / "pre")
    assert config["model"]["num_classes"] == 2 and config["data"]["train"]["classes"] == ["in order", "shuffled"]
    assert config["data"]["train"]["recipe"]["of"]["task"] == "order_verification"  # a split of the pretext data
    after = model.state_dict()
    assert not torch.equal(after["blocks.0.0.weight"], before["blocks.0.0.weight"])  # the body learned
    assert all(torch.equal(after[k], before[k]) for k in before if k.startswith("head."))  # the head did not
    # the run's best weights are the body the model now holds: fine-tuning can start from the folder
    fresh = models.preset("default", num_classes=8, seed=1, **SMALL)
    models.copy_body(runs.load(tmp_path / "pre"), fresh)
    assert all(torch.equal(fresh.state_dict()[k], v) for k, v in models.reuse.body_state(model).items())


def test_pretraining_resumes_and_refuses_a_second_writer_or_other_data(unlabelled, tmp_path):
    kw = dict(batch_size=8, progress=False, device="cpu")
    model = models.preset("default", num_classes=8, seed=0, **SMALL)
    train.pretrain(model, unlabelled, "arrow_of_time", epochs=1, run_dir=tmp_path / "pre", **kw)
    with record.writer_lock(tmp_path / "pre"):  # someone else writing the folder
        with pytest.raises(ValueError, match="being written by"):
            train.pretrain(model, unlabelled, "arrow_of_time", epochs=2, resume=tmp_path / "pre", **kw)
    with pytest.raises(ValueError, match="other data"):  # the task is part of the data's recipe
        train.pretrain(model, unlabelled, "order_verification", epochs=2, resume=tmp_path / "pre", **kw)
    result = train.pretrain(model, unlabelled, "arrow_of_time", epochs=2, resume=tmp_path / "pre", **kw)
    assert list(result.history["epoch"]) == [1, 2]
    with pytest.raises(ValueError, match="val_fraction"):
        train.pretrain(model, unlabelled, val_fraction=1.0)


def test_fine_tuning_after_pretraining_uses_few_labels(unlabelled):
    model = models.preset("default", num_classes=8, seed=0, **SMALL)
    train.pretrain(model, unlabelled, epochs=1, batch_size=8, progress=False, device="cpu", val_fraction=0)
    few = data.subset(unlabelled, np.concatenate([np.flatnonzero(unlabelled.labels == c)[:2] for c in range(8)]))
    model.frame_encoder.requires_grad_(False)  # the pretrained encoder stays as it is
    encoder = {k: v.clone() for k, v in model.frame_encoder.named_parameters()}  # (batch-norm statistics move)
    result = train.fit(model, few, None, epochs=2, batch_size=8, progress=False, device="cpu")
    assert len(result.history) == 2
    assert all(torch.equal(dict(model.frame_encoder.named_parameters())[k], v) for k, v in encoder.items())


SCRIPT = '''
import os, sys
import torch
from labkit import data, models, train

out = sys.argv[1]
ds = data.synthetic("direction", n=16, frames=4, size=16, seed=0)
model = models.preset("default", num_classes=8, img_size=16, conv_channels=(4,), hidden_size=8, head_hidden=8,
                      batch_norm=False, seed=0)
result = train.pretrain(model, ds, "order_verification", epochs=2, batch_size=8, lr=1e-2, device="cpu",
                        progress=False, threads=1, run_dir=os.path.join(out, "pre"))
torch.save(model.state_dict(), os.path.join(out, f"weights{os.environ.get('RANK', '0')}.pt"))
'''


@pytest.mark.slow
def test_pretraining_runs_under_torchrun_as_in_one_process(tmp_path):
    script = tmp_path / "pretrain_script.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(var, None)
    for name, args in (("single", [str(script)]),
                       ("ddp", ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script)])):
        (tmp_path / name).mkdir()
        proc = subprocess.run([sys.executable, *args, str(tmp_path / name)], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=240)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    single = torch.load(tmp_path / "single" / "weights0.pt", weights_only=True)
    for rank in (0, 1):
        ddp = torch.load(tmp_path / "ddp" / f"weights{rank}.pt", weights_only=True)
        for k in single:
            torch.testing.assert_close(ddp[k], single[k], atol=1e-5, rtol=1e-4)
    assert json.loads((tmp_path / "ddp" / "pre" / "config.json").read_text())["runtime"]["world_size"] == 2
