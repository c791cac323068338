"""The lessons of notebook 06, piece by piece on tiny data (their quick versions, with every claim,
run in test_lessons.py): nested labelled sets, a fixed update budget, and the pretraining
experiment on a folder of real .mp4 videos."""
from __future__ import annotations

import numpy as np
import pytest

from labkit import data, lessons
from labkit.lessons import scarce_data, self_supervised

TINY = dict(self_supervised.QUICK, seeds=(0,), unlabelled=16, pretext_epochs=1, fine_tune_epochs=1, frames=4, size=16,
            per_class=1, pool=16, test_n=16)


def test_the_new_lessons_are_registered():
    assert {"learning_curves", "pretraining", "frame_encoders", "compression"} <= set(lessons.LESSONS)


def test_labelled_sets_of_a_seed_are_nested_and_balanced():
    pool = data.synthetic("direction", n=80, frames=4, size=16, seed=0)
    sets = scarce_data.nested_subsets(pool, (1, 3, 5), seed=2)
    for k, ds in sets.items():
        assert (ds.class_counts() == k).all()
    assert set(sets[1].index) < set(sets[3].index) < set(sets[5].index)
    assert set(scarce_data.nested_subsets(pool, (3,), seed=3)[3].index) != set(sets[3].index)


def test_every_set_size_gets_about_the_same_number_of_updates():
    for clips in (16, 80, 400, 800):
        updates = scarce_data.epochs_for(clips) * -(-clips // scarce_data.TRAIN["batch_size"])
        assert scarce_data.UPDATES <= updates < scarce_data.UPDATES + -(-clips // scarce_data.TRAIN["batch_size"])


def test_few_labels_draws_per_class_by_seed():
    pool = data.synthetic("direction", n=64, frames=4, size=16, seed=0)
    few = self_supervised.few_labels(pool, 2, seed=1)
    assert (few.class_counts() == 2).all()
    assert not np.array_equal(few.index, self_supervised.few_labels(pool, 2, seed=2).index)


@pytest.mark.slow
def test_the_pretraining_experiment_runs_on_a_folder_of_real_videos(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path / "cache"))
    sources = self_supervised.video_sources(TINY, tmp_path / "videos")
    assert sorted(p.suffix for p in (tmp_path / "videos" / "unlabelled").rglob("*.mp4"))[:1] == [".mp4"]
    assert len(sources["unlabelled"]) == 16 and sources["pool"].recipe["kind"] == "folder"
    table, pretext = self_supervised.experiment(sources, TINY, tmp_path / "runs", progress=False, name="videos")
    assert sorted(table["start"]) == ["pretrained", "scratch"] and table["test_accuracy"].between(0, 1).all()
    assert pretext["pretext"].tolist() == ["order_verification"] and (table.source == "videos").all()
    again = self_supervised.video_sources(TINY, tmp_path / "videos")  # written once, then read again
    assert len(again["test"]) == len(sources["test"])


def test_the_pretraining_gain_needs_a_mean_of_at_least_the_margin_and_an_interval_above_zero():
    scratch = [0.15, 0.16, 0.17]
    assert self_supervised.gain("x", [0.30, 0.32, 0.34], scratch).supported  # +0.16, interval well above 0
    assert not self_supervised.gain("x", [0.22, 0.24, 0.26], scratch).supported  # real, but +0.08 < 0.10
    assert not self_supervised.gain("x", [0.05, 0.25, 0.60], scratch).supported  # mean +0.14, interval across 0
    claim = self_supervised.gain("x", [0.30, 0.32, 0.34], scratch)
    assert claim.threshold == self_supervised.MARGIN and claim.measured == pytest.approx(0.16)
