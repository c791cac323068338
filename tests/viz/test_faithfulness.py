"""Faithfulness figures, on the reports and tables `labkit.explain` returns."""
import dataclasses

import numpy as np
import pandas as pd
import pytest

from labkit import explain, models, viz


@pytest.fixture(scope="module")
def untrained(tiny_config):
    return models.DCRN(tiny_config.replace(num_classes=2)).eval()


@pytest.fixture(scope="module")
def faithfulness(tiny_order, untrained):
    """evaluate_faithfulness of saliency on an untrained tiny model: a real report, ~1 s."""
    return explain.evaluate_faithfulness(untrained, tiny_order, "saliency", n=3, steps=4, n_random=2)


@pytest.fixture(scope="module")
def other(tiny_order, untrained):
    """The same model, checks, clips and seed for input x gradient: a second method to compare with."""
    return explain.evaluate_faithfulness(untrained, tiny_order, "input_x_gradient", n=3, steps=4, n_random=2)


def test_deletion_insertion_grid_from_real_curves(faithfulness):
    fig = viz.deletion_insertion_curves(faithfulness.curves)
    titles = [a.text for a in fig.layout.annotations]
    assert titles[0].startswith("deletion over frames") and "AUC" in titles[0]
    assert any(t.startswith("insertion over pixels") for t in titles)
    lines = [t for t in fig.data if t.fill is None]
    assert len(lines) == 2 * 2 * 2  # (frames, pixels) x (deletion, insertion) x (attribution, random)
    assert {t.name for t in lines} == {"attribution order", "random order (mean)"}


def test_curves_are_means_over_clips_with_a_band():
    rows = [dict(clip=c, over="frames", curve=k, order=o, fraction=f, probability=p)
            for c, off in ((0, 0.0), (1, 0.2)) for k in ("deletion", "insertion") for o in ("attribution", "random")
            for f, p in ((0.0, 0.5 + off), (1.0, 0.1 + off))]
    fig = viz.deletion_insertion_curves(pd.DataFrame(rows))
    line = next(t for t in fig.data if t.name == "attribution order")
    np.testing.assert_allclose(line.y, [0.6, 0.2])
    band = fig.data[0]
    assert band.fill == "toself" and len(band.x) == 4
    with pytest.raises(ValueError, match="explain.deletion_insertion"):
        viz.deletion_insertion_curves(pd.DataFrame(dict(fraction=[0])))


def test_randomization_cascade_follows_the_steps(faithfulness):
    rand = faithfulness.randomization
    fig = viz.randomization_cascade(rand)
    assert fig.data[0].x[0] == "original" and fig.data[0].y[0] == pytest.approx(1.0)
    assert len(fig.data[0].x) == rand["step"].nunique()
    assert fig.layout.shapes[0].y0 == 0.3


def test_summary_bars_colour_by_passed(faithfulness):
    fig = viz.faithfulness_summary(faithfulness)
    judged = faithfulness.summary[faithfulness.summary.reference.notna()]
    assert len(fig.data[0].x) == len(judged)
    colour = {True: "#2ca02c", False: "#d62728"}
    assert list(fig.data[0].marker.color) == [colour.get(p, "#fdae61") for p in judged.passed]


def test_inconclusive_verdicts_are_amber_with_their_interval(faithfulness):
    """A check whose bootstrap interval overlaps the reference is neither green nor red: amber, "?"."""
    table = faithfulness.summary[faithfulness.summary.reference.notna()].copy()
    table["passed"] = [None] + [True] * (len(table) - 1)
    table["difference"], table["ci_low"], table["ci_high"] = 0.1, -0.05, 0.3
    fig = viz.faithfulness_summary(table)
    assert fig.data[0].marker.color[0] == "#fdae61" and fig.data[0].text[0].endswith("?")
    assert fig.data[0].marker.color[1] == "#2ca02c"
    assert list(fig.data[0].error_y.array)[:1] == [pytest.approx(0.2)]
    assert list(fig.data[0].error_y.arrayminus)[:1] == [pytest.approx(0.15)]


def test_gradient_flow_from_explain_averages_clips(tiny_order, tiny_config):
    model = models.DCRN(tiny_config.replace(num_classes=2, cell="rnn")).eval()
    clips = np.stack([tiny_order[i][0] for i in range(2)])
    flow = explain.gradient_flow(model, clips)
    fig = viz.gradient_flow({"rnn": flow})
    assert list(fig.data[0].x) == list(range(8))
    np.testing.assert_allclose(fig.data[0].y, flow.groupby("frame").grad_norm.mean())


def test_summary_compares_concatenated_methods(faithfulness):
    """Two methods' summary tables in one pd.concat: a bar per method per check, failures hatched,
    one reference bar; rows that do not line up stay gaps instead of shifting."""
    faithfulness = faithfulness.summary
    other = faithfulness.assign(method="other", value=faithfulness["value"] + 0.5,
                                passed=~faithfulness["passed"].fillna(False).astype(bool))
    other = other[other["check"] != "pointing"]  # a method evaluated without the pointing game
    both = pd.concat([faithfulness, other], ignore_index=True)
    fig = viz.faithfulness_summary(both)
    first, second, reference = fig.data
    judged = faithfulness[faithfulness.reference.notna()]
    assert [first.name, second.name, reference.name] == [faithfulness["method"].iloc[0], "other", "reference"]
    assert len(first.x) == len(second.x) == len(reference.x) == len(judged)
    np.testing.assert_allclose(first.y, judged["value"])
    pointing = [i for i, label in enumerate(second.x) if label.startswith("pointing")]
    assert pointing and all(second.y[i] is None or np.isnan(second.y[i]) for i in pointing)
    shown = [i for i in range(len(second.x)) if i not in pointing]
    for i in shown:  # "other" fails exactly where the first method passed
        other_failed = bool(judged["passed"].iloc[i])
        assert (second.marker.pattern.shape[i] == "x") == other_failed
        assert second.text[i].endswith(" ✗") == other_failed
    np.testing.assert_allclose(reference.y, judged["reference"])
    assert "vs other" in fig.layout.title.text


def test_figures_take_reports_and_lists_of_reports(faithfulness, other):
    """A report plots as it is; a list of reports, or their concat, gives a line or bar per method
    against one reference."""
    one = viz.deletion_insertion_curves(faithfulness)
    assert [t.name for t in one.data] == [t.name for t in viz.deletion_insertion_curves(faithfulness.curves).data]
    both = explain.FaithfulnessReport.concat([faithfulness, other])
    for fig in (viz.deletion_insertion_curves([faithfulness, other]), viz.deletion_insertion_curves(both)):
        lines = {t.name: t for t in fig.data if t.fill is None}
        assert set(lines) == {"random order (mean)", "saliency", "input_x_gradient"}
        assert "saliency" in fig.layout.annotations[0].text and "input_x_gradient" in fig.layout.annotations[0].text
    # same clips, seed and targets: both methods' random orders agree, so their mean is either one
    random = [t.y for fig in (one, viz.deletion_insertion_curves(both)) for t in fig.data
              if t.name == "random order (mean)" and t.fill is None]
    np.testing.assert_allclose(np.concatenate(random[:4]), np.concatenate(random[4:]), rtol=1e-6)
    cascade = viz.randomization_cascade([faithfulness, other])
    assert [t.name for t in cascade.data] == ["saliency: |maps|", "saliency: signed maps",
                                              "input_x_gradient: |maps|", "input_x_gradient: signed maps"]
    summary = viz.faithfulness_summary(both)
    assert [t.name for t in summary.data] == ["saliency", "input_x_gradient", "reference"]
    assert len(summary.data[0].x) == len(faithfulness.summary.dropna(subset=["reference"]))
    with pytest.raises(ValueError, match="no curves table"):
        viz.deletion_insertion_curves(dataclasses.replace(faithfulness, curves=None))
