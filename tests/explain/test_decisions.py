"""`explain.decision_frame`: from which frame on the final prediction stays on top."""
import numpy as np
import pytest

from labkit import explain
from labkit.errors import LabkitError


def _curve(tops, k=3):
    p = np.full((len(tops), k), 0.1)
    p[np.arange(len(tops)), tops] = 0.8
    return p


@pytest.mark.parametrize("tops,frame", [([1, 1, 1, 1], 0), ([0, 1, 1, 1], 1), ([1, 0, 2, 1], 3), ([2, 1, 2, 2, 2], 2)])
def test_the_first_frame_after_which_the_final_class_stays_on_top(tops, frame):
    assert explain.decision_frame(_curve(tops)) == frame


def test_nan_rows_past_a_clips_length_are_ignored_and_bad_shapes_refused():
    p = _curve([0, 1, 1, 2])
    p[3] = np.nan
    assert explain.decision_frame(p) == 1
    with pytest.raises(LabkitError, match="predict_prefixes"):
        explain.decision_frame(np.ones(4))



def test_when_decided_places_each_decision_against_the_evidence(order_model, order_ds):
    table = explain.when_decided(order_model, order_ds, n=12)
    assert len(table) == 12 and set(table.columns) >= {"decided", "first_evidence", "last_evidence", "when"}
    for r in table.itertuples():
        clip = order_ds[r.index][0]
        assert r.decided == explain.decision_frame(order_model.predict_prefixes(clip))
        ev = np.flatnonzero(order_ds.evidence_frames[r.index])
        assert (r.first_evidence, r.last_evidence) == (ev[0], ev[-1])
        assert (r.when == "before the evidence") == (r.decided < ev[0])
        assert (r.when == "after the evidence") == (r.decided > ev[-1])


def test_smallest_flips_remove_frames_that_really_flip(order_model, order_ds):
    table = explain.smallest_flips(order_model, order_ds, indices=[0, 1, 2], method="saliency")
    assert list(table["index"]) == [0, 1, 2]
    for r in table.itertuples():
        if r.flip is None:
            assert np.isnan(r.size)
            continue
        clip = order_ds[r.index][0]
        before = order_model.predict_proba(clip)[0].argmax()
        assert order_model.predict_proba(explain.edit(clip, "drop", r.flip))[0].argmax() != before
        assert r.size == len(r.flip)
        assert r.on_evidence == bool(order_ds.evidence_frames[r.index][r.flip].any())
