"""evaluate(): metrics checked on a hand-made case, and end to end against predict_proba."""
import numpy as np
import pytest

from labkit import train
from labkit.train import EvalResult


def test_metrics_on_a_hand_made_case():
    classes = ["a", "b", "c"]
    labels = [0, 0, 0, 1, 1, 2]
    probs = np.array([
        [0.8, 0.1, 0.1],  # a -> a
        [0.6, 0.3, 0.1],  # a -> a
        [0.2, 0.7, 0.1],  # a -> b
        [0.1, 0.8, 0.1],  # b -> b
        [0.5, 0.4, 0.1],  # b -> a
        [0.1, 0.1, 0.8],  # c -> c
    ])
    r = EvalResult.from_probabilities(probs, labels, classes)
    assert r.top1 == pytest.approx(4 / 6)
    assert r.top5 is None  # fewer than 5 classes
    assert r.mean_class_accuracy == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    assert r.confusion.loc["a"].tolist() == [2, 1, 0]
    assert r.confusion.loc["b"].tolist() == [1, 1, 0]
    assert r.confusion.loc["c"].tolist() == [0, 0, 1]
    assert r.confusion.index.name == "true" and r.confusion.columns.name == "predicted"
    assert r.per_class["precision"].tolist() == pytest.approx([2 / 3, 1 / 2, 1.0])
    assert r.per_class["recall"].tolist() == pytest.approx([2 / 3, 1 / 2, 1.0])
    assert r.per_class["support"].tolist() == [3, 2, 1]
    p = r.predictions
    assert list(p.columns[:4]) == ["clip", "true", "predicted", "confidence"]
    assert p["predicted"].tolist() == ["a", "a", "b", "b", "a", "c"]
    assert p["confidence"].tolist() == pytest.approx([0.8, 0.6, 0.7, 0.8, 0.5, 0.8])
    expected_loss = -np.mean(np.log([0.8, 0.6, 0.2, 0.8, 0.4, 0.8]))
    assert r.loss == pytest.approx(expected_loss)
    assert r.to_dict() == {"top1": r.top1, "top5": None, "mean_class_accuracy": r.mean_class_accuracy,
                           "loss": r.loss, "clips": 6}


def test_top5_and_never_predicted_classes():
    classes = list("abcdef")
    probs = np.tile(np.array([0.3, 0.25, 0.2, 0.15, 0.06, 0.04]), (3, 1))  # always "a"; f is ranked last
    r = EvalResult.from_probabilities(probs, [0, 4, 5], classes)
    assert r.top1 == pytest.approx(1 / 3)
    assert r.top5 == pytest.approx(2 / 3)  # e is in the top 5, f is not
    assert np.isnan(r.per_class.loc["b", "precision"])  # never predicted: precision undefined
    assert r.per_class.loc["b", "support"] == 0
    assert r.mean_class_accuracy == pytest.approx(1 / 3)  # mean recall over classes that occur (a, e, f)


def test_evaluate_matches_predict_proba(trained_order_model, tiny_order):
    r = train.evaluate(trained_order_model, tiny_order, batch_size=16, device="cpu")
    probs = trained_order_model.predict_proba(np.stack([tiny_order[i][0] for i in range(len(tiny_order))]))
    np.testing.assert_allclose(r.probabilities, probs, atol=1e-5)
    assert r.top1 == pytest.approx((probs.argmax(1) == tiny_order.labels).mean())
    assert r.confusion.values.sum() == len(tiny_order)
    assert list(r.confusion.index) == tiny_order.classes


def test_evaluate_refuses_mismatched_classes(trained_order_model, tiny_direction):
    with pytest.raises(ValueError, match="2 classes"):
        train.evaluate(trained_order_model, tiny_direction, device="cpu")
