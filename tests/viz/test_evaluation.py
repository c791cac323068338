"""Confusion matrix and per-class bars from EvalResult-shaped tables."""
import numpy as np
import pandas as pd
import pytest

from labkit import viz


@pytest.fixture
def confusion():
    return pd.DataFrame([[5, 1, 0], [2, 7, 1], [0, 0, 9]], index=list("abc"), columns=list("abc"))


def test_confusion_counts_are_annotated(confusion):
    fig = viz.confusion_matrix(confusion)
    hm = fig.data[0]
    assert hm.type == "heatmap" and hm.texttemplate == "%{text}"
    np.testing.assert_array_equal(hm.z, confusion.to_numpy())
    assert list(hm.x) == list("abc") and list(hm.y) == list("abc")


@pytest.mark.parametrize("normalize, axis", [("true", 1), ("pred", 0)])
def test_normalised_rows_or_columns_sum_to_one(confusion, normalize, axis):
    z = np.asarray(viz.confusion_matrix(confusion, normalize=normalize).data[0].z)
    np.testing.assert_allclose(z.sum(axis), 1.0)


def test_bad_normalize_is_named(confusion):
    with pytest.raises(ValueError, match="normalize"):
        viz.confusion_matrix(confusion, normalize="rows")


def test_per_class_bars_from_index_or_class_column():
    pc = pd.DataFrame(dict(precision=[0.5, 0.6], recall=[0.4, 0.7], support=[6, 9]), index=["l", "r"])
    for table in (pc, pc.rename_axis("class").reset_index()):
        fig = viz.per_class_bars(table)
        assert [t.name for t in fig.data] == ["precision", "recall"]
        assert list(fig.data[1].x) == ["l", "r"] and list(fig.data[1].y) == [0.4, 0.7]
    with pytest.raises(ValueError, match="recall"):
        viz.per_class_bars(pc.drop(columns="recall"))


def test_class_probabilities_outline_the_explained_class():
    fig = viz.class_probabilities(np.array([0.2, 0.7, 0.1]), ["a", "b", "c"], target=2, label=0)
    bar = fig.data[0]
    assert list(bar.x) == ["a", "b", "c"] and list(bar.marker.line.width) == [0, 0, 3]
    assert "true class: a" in fig.layout.title.text and "explained" in fig.layout.title.text
    assert viz.class_probabilities([0.5, 0.5], ["a", "b"]).layout.title.text == "prediction"
    with pytest.raises(ValueError, match="2 probabilities for 3 classes"):
        viz.class_probabilities([0.5, 0.5], ["a", "b", "c"])
