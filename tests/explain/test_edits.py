"""Counterfactual edits: each operation on its pure function, and the smallest flipping set of
frames checked against exhaustive search on short clips."""
import numpy as np
import pytest

from labkit.explain import edit, smallest_flip


@pytest.fixture
def clip():
    """uint8 (6, 4, 4, 3): frame t is filled with the value 10 t, so frames can be read back."""
    return (np.arange(6)[:, None, None, None] * 10 * np.ones((6, 4, 4, 3))).astype(np.uint8)


def _ids(c):
    return (c[:, 0, 0, 0] // 10).tolist()


def test_each_operation(clip):
    assert _ids(edit(clip, "drop", frames=[1, 3])) == [0, 2, 4, 5]
    assert _ids(edit(clip, "duplicate", frames=[2])) == [0, 1, 2, 2, 3, 4, 5]
    assert _ids(edit(clip, "freeze", frames=3)) == [0, 1, 2, 3, 3, 3]
    assert _ids(edit(clip, "reverse")) == [5, 4, 3, 2, 1, 0]
    assert _ids(edit(clip, "reverse", frames=[1, 3])) == [0, 3, 2, 1, 4, 5]
    shuffled = edit(clip, "shuffle", frames=[0, 1, 2], seed=3)
    assert sorted(_ids(shuffled)[:3]) == [0, 1, 2] and _ids(shuffled)[3:] == [3, 4, 5]
    assert _ids(edit(clip, "shuffle", seed=3)) == _ids(edit(clip, "shuffle", seed=3))  # seeded
    masked = edit(clip, "mask", box=(1, 1, 2, 2))
    assert (masked[:, 1:3, 1:3] == 25).all() and (masked[:, 0, 0] == clip[:, 0, 0]).all()  # mean colour 25
    other = np.full((3, 4, 4, 3), 200, np.uint8)
    assert _ids(edit(clip, "swap", frames=4, other=other, source=1)) == [0, 1, 2, 3, 20, 5]
    assert _ids(clip) == [0, 1, 2, 3, 4, 5]  # the input is never changed


@pytest.mark.parametrize("kw, words", [(dict(op="blur"), "unknown edit"), (dict(op="drop", frames=[9]), "frames="),
                                       (dict(op="drop", frames=list(range(6))), "no clip"),
                                       (dict(op="mask", box=(1, 2)), "box="), (dict(op="swap", frames=0), "other=")])
def test_bad_edits_say_what_to_give(clip, kw, words):
    with pytest.raises(ValueError, match=words):
        edit(clip, **kw)


class FirstFramesVote:
    """A stand-in model: class 1 when the mean of the frames' values is above a threshold, with
    frame t weighing w[t]; removing heavy, bright frames flips it."""

    def __init__(self, weights, threshold):
        self.w, self.threshold = np.asarray(weights, float), threshold

    def predict_proba(self, clip):
        v = clip[:, 0, 0, 0].astype(float)
        score = (v * self.w[:len(v)]).sum() / self.w[:len(v)].sum()
        p = 1 / (1 + np.exp(-(score - self.threshold)))
        return np.array([[1 - p, p]])


def test_greedy_search_against_exhaustive_search_on_short_clips():
    """On 60 random short clips (4-8 frames) and stand-in models: whenever some set of frames
    flips the prediction the greedy search finds one that does, never more than one frame
    larger than the smallest, and as small in at least 90% of the clips."""
    same = found = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        T = int(rng.integers(4, 9))
        clip = (rng.integers(0, 26, T)[:, None, None, None] * 10 * np.ones((T, 2, 2, 3))).astype(np.uint8)
        model = FirstFramesVote(rng.uniform(0.2, 2, T), threshold=float(clip[:, 0, 0, 0].mean()) - rng.uniform(1, 30))
        exact, greedy = smallest_flip(model, clip, exhaustive_up_to=8), smallest_flip(model, clip)
        if exact is None:
            assert greedy is None
            continue
        found += 1
        assert greedy is not None and len(exact) <= len(greedy) <= len(exact) + 1, (seed, exact, greedy)
        assert model.predict_proba(edit(clip, "drop", greedy))[0].argmax() != model.predict_proba(clip)[0].argmax()
        same += len(greedy) == len(exact)
    assert found >= 40 and same >= 0.9 * found
