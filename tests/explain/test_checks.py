"""Faithfulness building blocks on untrained models: curve shapes, cascade order, pointing maths."""
from __future__ import annotations

import numpy as np
import pytest

from labkit import explain
from labkit.explain.randomization import cascade


def test_curves_long_format(gru_model, clips):
    attr = explain.attribute(gru_model, clips[:2], method="saliency")
    curves = explain.deletion_insertion(gru_model, clips[:2], attr, steps=4, n_random=2)
    assert list(curves.columns) == ["clip", "over", "curve", "order", "fraction", "probability"]
    frames = curves[(curves["over"] == "frames") & (curves["clip"] == 0)]
    assert len(frames) == 2 * 2 * 7  # (deletion, insertion) x (attribution, random) x (T + 1)
    d = frames[(frames["curve"] == "deletion") & (frames["order"] == "attribution")]["probability"].to_numpy()
    i = frames[(frames["curve"] == "insertion") & (frames["order"] == "attribution")]["probability"].to_numpy()
    assert d[0] == pytest.approx(attr.target_probability[0], rel=1e-4) == pytest.approx(i[-1], rel=1e-4)
    assert d[-1] == pytest.approx(i[0], rel=1e-4)  # all removed == nothing inserted
    pixels = curves[curves["over"] == "pixels"]
    assert sorted(pixels["fraction"].unique()) == pytest.approx([0, 0.25, 0.5, 0.75, 1])
    auc = explain.curve_auc(curves)
    assert list(auc.columns) == ["over", "curve", "auc_attribution", "auc_random", "difference", "ci_low", "ci_high",
                                 "verdict", "passed"] and len(auc) == 4
    assert (auc["verdict"] == "inconclusive").all() and auc["passed"].isna().all()  # 2 clips: no verdict
    with pytest.raises(ValueError, match="same clips"):
        explain.deletion_insertion(gru_model, clips, attr)
    with pytest.raises(ValueError, match="over="):
        explain.deletion_insertion(gru_model, clips[:2], attr, over="voxels")


def test_randomisation_leaves_the_model_alone(gru_model, clips):
    before = {k: v.clone() for k, v in gru_model.state_dict().items()}
    table = explain.randomization_check(gru_model, clips[:1], "saliency")
    assert list(table["layer"]) == ["original", *cascade(gru_model)] == ["original", "head", "rnn", "blocks.1", "blocks.0"]
    after = gru_model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    again = explain.randomization_check(gru_model, clips[:1], "saliency")
    np.testing.assert_array_equal(table["spearman"], again["spearman"])


def test_pointing_game_maths(gru_model, clips):
    attr = explain.attribute(gru_model, clips[:1], method="saliency")
    attr.maps[:] = 0.0
    attr.maps[0, 4, 10:13, 20:23] = 5.0
    attr.abs_maps[:] = np.abs(attr.maps)
    attr.frame_scores[:] = attr.abs_maps.sum((2, 3))
    frames = np.zeros((1, 6), bool)
    frames[0, 4] = True
    masks = np.zeros((1, 6, 32, 32), bool)
    masks[0, 4, 9:14, 19:24] = True
    game = explain.pointing_game(attr, frames, masks, labels=[attr.predicted[0]])
    row = game.iloc[0]
    assert row["top_frame"] == 4 and row["frame_hit"] and row["pixel_hit"] and row["correct"]
    assert row["mass_share"] == pytest.approx(1.0) and row["area_share"] == pytest.approx(25 / (6 * 32 * 32))
    with pytest.raises(ValueError, match="do not match"):
        explain.pointing_game(attr, frames[:, :3], masks)


def test_evaluate_faithfulness_runs_every_check(tiny):
    from labkit import data

    ds = data.synthetic("order", n=6, frames=6, size=32, seed=0)
    model = tiny("default", num_classes=2)
    report = explain.evaluate_faithfulness(model, ds, "saliency", n=2, steps=4, n_random=3)
    summary = report.summary
    assert set(summary["check"]) == {"deletion", "insertion", "randomization", "randomization (signed)", "pointing"}
    rand = summary[summary["check"] == "randomization"]
    assert list(rand["over"]) == ["head", "rnn", "blocks.1", "blocks.0"]
    assert rand["passed"].isna().all() and rand["verdict"].iloc[-1] == "inconclusive"  # 2 clips: no verdict
    tables = [report.summary, report.curves, report.auc, report.randomization, report.pointing]
    assert all(t.columns[0] == "method" and set(t["method"]) == {"saliency"} for t in tables)
    assert report.method == "saliency" and len(report.indices) == 2 and report.params["n_random"] == 3
    assert report.checks == ("deletion", "randomization", "pointing")
    # a notebook cell ending in a report shows its summary table
    assert "<table" in report._repr_html_() and "randomization (signed)" in repr(report)
    with pytest.raises(ValueError, match="unknown check"):
        explain.evaluate_faithfulness(model, ds, "saliency", n=2, checks=("vibes",))


def test_reports_of_several_methods_concatenate(tiny):
    """Comparing methods is one FaithfulnessReport.concat: every table stacked, each row keeping its method."""
    import pandas as pd

    from labkit import data

    ds = data.synthetic("order", n=6, frames=6, size=32, seed=0)
    model = tiny("default", num_classes=2)
    kw = dict(n=2, steps=3, n_random=2, checks=("deletion", "pointing"))
    a, b, c = (explain.evaluate_faithfulness(model, ds, m, **kw)
               for m in ("saliency", "frame_ablation", "input_x_gradient"))
    both = explain.FaithfulnessReport.concat([a, b])
    assert both.method == "saliency+frame_ablation" and both.methods == ("saliency", "frame_ablation")
    assert len(both.summary) == len(a.summary) + len(b.summary)
    assert set(both.summary["method"]) == {"saliency", "frame_ablation"}
    curves = both.curves[both.curves["method"] == "saliency"].reset_index(drop=True)
    pd.testing.assert_frame_equal(curves, a.curves)
    assert both.randomization is None  # neither report ran the check
    assert both.indices == a.indices and both.checks == ("deletion", "pointing")
    assert both.params == {"saliency": a.params, "frame_ablation": b.params}
    three = explain.FaithfulnessReport.concat([both, c])  # a concatenation concatenates again, flat
    assert three.methods == ("saliency", "frame_ablation", "input_x_gradient")
    assert list(three.params) == list(three.methods) and len(three.pointing) == 3 * len(a.pointing)
    assert explain.FaithfulnessReport.concat([a]).params == a.params
    with pytest.raises(ValueError, match="more than one report"):
        explain.FaithfulnessReport.concat([both, a])
