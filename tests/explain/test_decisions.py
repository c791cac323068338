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

