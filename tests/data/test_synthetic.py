"""Built-in tasks: shapes, dtypes, determinism, balance, options, ground-truth evidence, and the
property `direction` exists for: one frame alone says nothing about the class; two frames do."""
import numpy as np
import pytest
import torch

from labkit import data


@pytest.mark.parametrize("name,options,classes", [
    ("direction", {}, 8), ("order", {"gap": 5}, 2), ("digits", {}, 10), ("digits", {"label": "direction"}, 8)])
def test_shapes_dtypes_balance(name, options, classes):
    ds = data.synthetic(name, n=43, frames=8, size=32, seed=1, **options)
    clip, label = ds[0]
    assert clip.shape == (8, 32, 32, 3) and clip.dtype == np.uint8 and isinstance(label, int)
    assert len(ds) == 43 and ds.num_classes == classes and ds.labels.dtype == np.int64
    counts = ds.class_counts().to_numpy()
    assert counts.sum() == 43 and counts.max() - counts.min() <= 1
    assert ds.lengths is None and ds.paths is None
    assert ds.evidence_frames.shape == (43, 8) and ds.evidence_frames.dtype == np.bool_
    assert ds.evidence_mask(0).shape == (8, 32, 32)
    assert ds.recipe["task"] == name and len(ds.report) == 0


@pytest.mark.parametrize("name", ["direction", "order", "digits"])
def test_same_seed_same_data_whatever_the_threads(name):
    a = data.synthetic(name, n=300, frames=6, size=32, seed=7, workers=1)
    b = data.synthetic(name, n=300, frames=6, size=32, seed=7, workers=3)
    c = data.synthetic(name, n=300, frames=6, size=32, seed=8)
    assert np.array_equal(a._clips, b._clips) and np.array_equal(a.labels, b.labels)
    assert np.array_equal(a.evidence_frames, b.evidence_frames)
    assert not np.array_equal(a._clips, c._clips)


def test_bad_names_and_options_are_named():
    with pytest.raises(ValueError, match="unknown synthetic task 'spin'.*direction"):
        data.synthetic("spin")
    with pytest.raises(ValueError, match="unknown option.*'gapp'.*valid options"):
        data.synthetic("order", n=4, gapp=3)
    with pytest.raises(ValueError, match="gap=20.*frames >= 21"):
        data.synthetic("order", n=4, frames=16, gap=20)
    with pytest.raises(ValueError, match="frames=1"):
        data.synthetic("direction", n=4, frames=1)
    with pytest.raises(ValueError, match="label='colour'"):
        data.synthetic("digits", n=4, label="colour")


@pytest.mark.parametrize("name", ["direction", "digits"])
def test_object_pixels_lie_inside_the_evidence_mask(name):
    ds = data.synthetic(name, n=12, frames=6, size=32, seed=2)
    for i in range(len(ds)):
        clip = ds[i][0]
        mask = ds.evidence_mask(i)  # (T, H, W)
        assert mask.any(axis=(1, 2)).all() and ds.evidence_frames[i].all()
        # the background is static: a pixel outside the mask in frames t and s is the same in both
        for t in range(len(clip)):
            for s in range(t + 1, len(clip)):
                outside = ~mask[t] & ~mask[s]
                assert np.array_equal(clip[t][outside], clip[s][outside]), f"clip {i}: frames {t}, {s} differ outside"
        # and inside the mask the object really is drawn: the masked pixels differ from the background somewhere
        assert any((clip[t][mask[t]] != clip[s][mask[t]]).any() for t in range(len(clip)) for s in range(len(clip))
                   if not mask[s][mask[t]].all())


def test_order_evidence_frames_show_the_flashes_in_the_labelled_order():
    ds = data.synthetic("order", n=40, frames=12, size=32, seed=3, gap=4, duration=2)
    red, blue = np.array([235, 35, 35]), np.array([35, 70, 240])
    for i in range(len(ds)):
        clip, label = ds[i]
        frames = np.flatnonzero(ds.evidence_frames[i])
        assert len(frames) == 4 and frames[2] - frames[0] == 4  # two flashes of 2 frames, onsets 4 apart
        mask = ds.evidence_mask(i)
        colours = [clip[t][mask[t]].mean(0) for t in frames]
        first, second = (red, blue) if ds.classes[label] == "red-first" else (blue, red)
        assert np.abs(colours[0] - first).max() < 2 and np.abs(colours[3] - second).max() < 2
        assert not mask[~ds.evidence_frames[i]].any()


def test_digits_label_digit_groups_are_source_images():
    ds = data.synthetic("digits", n=200, frames=4, size=32, seed=0)
    from sklearn.datasets import load_digits
    targets = load_digits().target
    assert ds.groups is not None and np.array_equal(targets[ds.groups], ds.labels)


def _fit_cnn(x_train, y_train, x_test, y_test, epochs=30, seed=0) -> float:
    """Test accuracy of a tiny CNN (global max pool: position-free) on float (N, C, H, W)."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(x_train.shape[1], 8, 5, stride=2, padding=2), torch.nn.ReLU(),
        torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(),
        torch.nn.AdaptiveMaxPool2d(1), torch.nn.Flatten(), torch.nn.Linear(16, 8))
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    xt, yt = torch.as_tensor(x_train), torch.as_tensor(y_train)
    for _ in range(epochs):
        for b in torch.randperm(len(xt)).split(100):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(xt[b]), yt[b]).backward()
            opt.step()
    with torch.no_grad():
        return (net(torch.as_tensor(x_test)).argmax(1).numpy() == y_test).mean()


@pytest.fixture
def one_torch_thread():
    """Two threads on 2 shared cores thrash under load; one is faster and steadier here."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_direction_single_frame_is_at_chance_two_frames_are_not(one_torch_thread):
    ds = data.synthetic("direction", n=1200, frames=4, size=32, seed=0)
    clips = ds._clips.astype(np.float32).transpose(0, 1, 4, 2, 3) / 255  # (N, T, C, H, W)
    y = ds.labels
    one = clips[:, 1]  # (N, 3, H, W): a single frame
    two = np.concatenate([clips[:, 0], clips[:, 3]], axis=1)  # (N, 6, H, W): two frames stacked
    train, test = slice(0, 900), slice(900, None)
    acc_one = _fit_cnn(one[train], y[train], one[test], y[test])
    acc_two = _fit_cnn(two[train], y[train], two[test], y[test])
    # chance is 1/8; 300 test clips: 3 standard errors above chance is 0.125 + 0.057
    assert acc_one < 0.19, f"a single frame predicts the direction ({acc_one:.2f}): the task leaks"
    assert acc_two > 0.5, f"two frames should reveal the direction ({acc_two:.2f})"


def test_direction_position_in_a_frame_is_independent_of_the_class():
    ds = data.synthetic("direction", n=4000, frames=8, size=32, seed=5)
    pos = ds.evidence.pos[:, 0, 5]  # (N, 2) top-left of the object in frame 5
    for axis in (0, 1):
        hist = np.stack([np.bincount(pos[ds.labels == c, axis] % 32 // 8, minlength=4) for c in range(8)])
        expected = hist.sum(1, keepdims=True) / 4
        chi2 = ((hist - expected) ** 2 / expected).sum()
        assert chi2 < 50, f"position bins depend on the class (chi2={chi2:.0f}, 24 dof)"


def test_order_gap_range_is_drawn_per_clip_independently_of_the_class():
    ds = data.synthetic("order", n=400, frames=20, size=16, seed=0, gap=(3, 15))
    onsets = [np.flatnonzero(f) for f in ds.evidence_frames]
    gaps = np.array([o[1] - o[0] for o in onsets])
    assert gaps.min() == 3 and gaps.max() == 15
    assert abs(gaps[ds.labels == 0].mean() - gaps[ds.labels == 1].mean()) < 1.5
    with pytest.raises(ValueError, match=r"gap=\(3, 20\).*frames >= 21"):
        data.synthetic("order", n=4, frames=20, gap=(3, 20))
