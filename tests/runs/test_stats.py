"""runs.summarize: mean, std, Student-t 95% interval and n per group."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from labkit import runs


def test_summarize_matches_a_hand_computed_interval():
    table = pd.DataFrame({"cell": ["rnn", "rnn", "rnn", "gru", "gru", "lstm"],
                          "best_val_accuracy": [0.5, 0.6, 0.7, 0.9, 1.0, 0.8]})
    s = runs.summarize(table, by="cell").set_index("cell")
    assert list(s.index) == ["rnn", "gru", "lstm"]  # order of first appearance
    v = np.array([0.5, 0.6, 0.7])
    half = stats.t.ppf(0.975, 2) * v.std(ddof=1) / math.sqrt(3)
    assert s.loc["rnn", "mean"] == pytest.approx(0.6) and s.loc["rnn", "std"] == pytest.approx(0.1)
    assert s.loc["rnn", "ci_low"] == pytest.approx(0.6 - half) and s.loc["rnn", "ci_high"] == pytest.approx(0.6 + half)
    assert s.loc["lstm", "n"] == 1 and math.isnan(s.loc["lstm", "std"]) and math.isnan(s.loc["lstm", "ci_low"])


def test_summarize_groups_by_several_columns_and_names_missing_ones():
    table = pd.DataFrame({"cell": ["rnn", "rnn", "gru"], "gap": [2, 2, 2], "acc": [0.4, np.nan, 0.9]})
    s = runs.summarize(table, by=["cell", "gap"], metric="acc")
    assert s[["cell", "gap", "n"]].values.tolist() == [["rnn", 2, 1], ["gru", 2, 1]]  # NaN runs do not count
    with pytest.raises(ValueError, match="no column 'seed'"):
        runs.summarize(table, by="seed")
