"""Explanations respect clip lengths: a padded clip is explained exactly as the clip alone, and its
padding frames get exactly 0 attribution and no frame score."""
import numpy as np
import pytest

from labkit import explain

FAST = {"integrated_gradients": {"n_steps": 4}, "smoothgrad": {"nt_samples": 2},
        "occlusion": {"window": 16, "stride": 16}}


@pytest.mark.parametrize("method", [m.name for m in explain.methods() if m.name != "deeplift"])
def test_padded_equals_alone_and_padding_is_zero(gru_model, clips, method):
    short, full = clips[0, :3], clips[1]  # 3 and 6 frames of 32 x 32
    padded = np.zeros((2, 6, 32, 32, 3), np.uint8)
    padded[0, :3], padded[1] = short, full
    together = explain.attribute(gru_model, padded, lengths=[3, 6], method=method, **FAST.get(method, {}))
    alone = explain.attribute(gru_model, short, method=method, **FAST.get(method, {}))
    np.testing.assert_allclose(together.maps[0, :3], alone.maps[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(together.frame_scores[0, :3], alone.frame_scores[0], rtol=1e-5, atol=1e-6)
    assert (together.maps[0, 3:] == 0).all() and (together.abs_maps[0, 3:] == 0).all()
    assert np.isnan(together.frame_scores[0, 3:]).all() and not np.isnan(together.frame_scores[1]).any()
    assert together.lengths.tolist() == [3, 6] and together.predicted[0] == alone.predicted[0]


def test_a_list_of_clips_of_different_lengths(gru_model, clips):
    attr = explain.attribute(gru_model, [clips[0, :2], clips[1], clips[2, :4]], method="saliency")
    assert attr.maps.shape == (3, 6, 32, 32) and attr.lengths.tolist() == [2, 6, 4]
    with pytest.raises(ValueError, match="lengths must give"):
        explain.attribute(gru_model, clips, lengths=[7, 6, 6], method="saliency")
    whole = explain.attribute(gru_model, clips, lengths=[6, 6, 6], method="saliency")
    assert whole.lengths is None  # every clip whole: nothing to treat specially


def test_faithfulness_runs_on_variable_length_data(gru_model, clips):
    """A dataset of clips of 3 to 6 frames (a folder of videos with frames=None gives such)."""
    import pandas as pd

    from labkit import data

    varied = [clips[i % 3, :L] for i, L in enumerate([3, 6, 4, 5, 6, 3])]
    ds = data.ClipDataset(varied, [0, 1, 2, 0, 1, 2], ["a", "b", "c"], "varied", lengths=[len(c) for c in varied])
    report = explain.evaluate_faithfulness(gru_model, ds, "saliency", n=6, steps=3, n_random=2,
                                           checks=("deletion", "randomization"))
    assert set(report.summary["check"]) >= {"deletion", "insertion", "randomization"}
    frames = report.curves[(report.curves.over == "frames") & (report.curves.order == "attribution")]
    points = frames.groupby("clip")["fraction"].nunique()  # T + 1 points per clip: its own length
    assert points.tolist() == [L + 1 for L in [3, 6, 4, 5, 6, 3]]
    # the padded clip's curves are exactly those of the clip alone
    alone = data.ClipDataset([varied[0]], [0], ["a", "b", "c"], "one")
    single = explain.evaluate_faithfulness(gru_model, alone, "saliency", n=1, steps=3, n_random=2,
                                           checks=("deletion",), seed=0)
    mine = report.curves[(report.curves["clip"] == 0) & (report.curves.order == "attribution")]
    theirs = single.curves[single.curves.order == "attribution"]
    pd.testing.assert_series_equal(mine["probability"].reset_index(drop=True),
                                   theirs["probability"].reset_index(drop=True), rtol=1e-5)
