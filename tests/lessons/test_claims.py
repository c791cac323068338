"""Claims: supported only when the 95% interval clears the threshold, and worded from the measurement."""
import math

import numpy as np
import pytest
from scipy import stats

from labkit.lessons.claims import above, below, close, gap


def test_above_needs_the_whole_interval_over_the_threshold():
    tight = above("l", "high", [0.95, 0.96, 0.97], 0.9)
    assert tight.supported and tight.measured == pytest.approx(0.96) and tight.n == 3
    half = stats.t.ppf(0.975, 2) * 0.01 / math.sqrt(3)
    assert tight.ci == pytest.approx((0.96 - half, 0.96 + half))
    wide = above("l", "high", [0.5, 0.99, 0.99], 0.9)  # mean 0.83 < 0.9 anyway
    spread = above("l", "high", [0.91, 0.99, 1.3], 0.9)  # mean above, interval not
    assert not wide.supported and not spread.supported and spread.measured > 0.9
    assert not above("l", "one run", [0.99], 0.5).supported  # one seed: no interval, no support


def test_below_gap_and_close():
    assert below("l", "low", [0.25, 0.26, 0.24], 0.35).supported
    assert not below("l", "low", [0.25, 0.5, 0.24], 0.35).supported
    g = gap("l", "a beats b", [0.9, 0.92, 0.91], [0.4, 0.45, 0.5], 0.2, ("a", "b"))
    assert g.supported and g.measured == pytest.approx(0.46) and "a 0.910 vs b 0.450" in g.detail
    assert not gap("l", "a beats b", [0.9, 0.5, 0.91], [0.4, 0.45, 0.5], 0.2).supported
    assert close("l", "alike", [0.60, 0.62, 0.61], [0.61, 0.60, 0.62], 0.05).supported
    assert not close("l", "alike", [0.6, 0.9, 0.3], [0.61, 0.60, 0.62], 0.05).supported


def test_a_claim_reads_as_measured():
    good = above("memory_span", "the LSTM recalls", [0.99, 1.0, 0.98], 0.9, "accuracy")
    bad = above("memory_span", "the RNN recalls", [0.3, 0.4, 0.35], 0.9, "accuracy")
    assert good.line().startswith("SUPPORTED     memory_span: the LSTM recalls")
    assert bad.line().startswith("NOT SUPPORTED memory_span: the RNN recalls")
    assert good.sentence().startswith("**the LSTM recalls**")
    assert bad.sentence().startswith("*Not supported on this run:* the RNN recalls")  # never asserted
    assert np.isfinite(bad.to_dict()["ci_low"]) and bad.to_dict()["supported"] is False
