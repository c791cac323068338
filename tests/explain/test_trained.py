"""Faithfulness on trained models: the maps point at the planted evidence and pass the checks."""
from __future__ import annotations

import numpy as np
import pytest

from labkit import data, explain

pytestmark = pytest.mark.slow


def test_order_model_solves_the_task(order_model, order_test):
    clips, labels, _, _ = order_test
    assert (order_model.predict_proba(clips).argmax(1) == labels).mean() >= 0.9


@pytest.mark.parametrize("method", ["frame_ablation", "integrated_gradients"])
def test_order_top_frame_is_evidence(order_model, order_test, method):
    clips, labels, frames, masks = order_test
    attr = explain.attribute(order_model, clips, method=method, target=labels)
    game = explain.pointing_game(attr, frames, masks, labels=labels)
    correct = game[game["correct"]]
    assert len(correct) >= 0.9 * len(game)
    assert correct["frame_hit"].mean() >= 0.9, correct
    assert correct["frame_chance"].mean() == pytest.approx(0.25)  # 2 flashes in 8 frames


def test_direction_mass_on_the_moving_disc(trained_direction_model, tiny_direction):
    idx = np.arange(16)
    clips = np.stack([tiny_direction[int(i)][0] for i in idx])
    masks = np.stack([tiny_direction.evidence_mask(int(i)) for i in idx])
    frames = tiny_direction.evidence_frames[idx]
    for baseline, factor in (("temporal_mean", 5.0), ("blur", 2.0)):
        attr = explain.attribute(trained_direction_model, clips, method="integrated_gradients",
                                 baseline=baseline, n_steps=16)
        game = explain.pointing_game(attr, frames, masks)
        assert game["mass_share"].mean() > factor * game["area_share"].mean(), (baseline, game.mean())
        assert game["pixel_hit"].mean() > 2 * game["pixel_chance"].mean()


def test_deletion_and_insertion_beat_random_orders(order_model, order_test):
    clips, labels, _, _ = order_test
    clips, labels = clips[:6], labels[:6]
    for method, over in (("frame_ablation", "frames"), ("integrated_gradients", "pixels")):
        attr = explain.attribute(order_model, clips, method=method, target=labels)
        curves = explain.deletion_insertion(order_model, clips, attr, over=over, steps=16, n_random=20)
        assert set(curves["order"]) == {"attribution", "random"}
        auc = explain.curve_auc(curves).set_index("curve")
        assert auc.loc["deletion", "auc_attribution"] < auc.loc["deletion", "auc_random"], (method, auc)
        assert auc.loc["insertion", "auc_attribution"] > auc.loc["insertion", "auc_random"], (method, auc)
        assert auc["passed"].all()


# Signed IG maps and Grad-CAM decorrelate; |IG| and |gradient| maps keep ~0.5 on this model, the
# input's own structure showing through (Adebayo et al.'s finding) - the check exists to show that.
@pytest.mark.parametrize("method, params, column", [("integrated_gradients", {"n_steps": 8}, "spearman_signed"),
                                                    ("grad_cam", {}, "spearman")])
def test_full_randomisation_decorrelates_maps(order_model, order_test, method, params, column):
    clips = order_test[0][:4]
    table = explain.randomization_check(order_model, clips, method, seed=0, **params)
    steps = table.groupby("layer", sort=False)[column].mean()
    assert list(steps.index) == ["original", "head", "rnn", "blocks.1", "blocks.0"]
    assert steps.iloc[-1] < 0.3, steps
    assert order_model.training is False and next(order_model.parameters()).requires_grad


def test_evaluate_faithfulness_summary(order_model, order_ds):
    held_out = data.subset(order_ds, np.arange(256, 288))
    report = explain.evaluate_faithfulness(order_model, held_out, "frame_ablation", n=6, over="frames",
                                           n_random=20, checks=("deletion", "pointing"))
    summary = report.summary
    assert list(summary.columns) == ["method", "check", "over", "value", "reference", "difference", "ci_low",
                                     "ci_high", "verdict", "passed"]
    assert set(summary["check"]) == {"deletion", "insertion", "pointing"}
    assert (summary.loc[summary.check != "pointing", "verdict"] == "passed").all()  # intervals clear random
    assert (summary["ci_low"] <= summary["difference"]).all() and (summary["difference"] <= summary["ci_high"]).all()
    assert all(table is not None for table in (report.curves, report.auc, report.pointing))
    frames_row = summary[(summary.check == "pointing") & (summary.over == "frames")].iloc[0]
    assert frames_row["value"] > frames_row["reference"]
