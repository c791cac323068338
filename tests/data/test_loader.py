"""make_loader / set_epoch / clip_augment: batch layout, reproducible shuffles and transforms per
(seed, epoch, index), workers, and augmentations that keep a clip consistent across time."""
import numpy as np
import pytest
import torch

from labkit import data


@pytest.fixture(scope="module")
def ds():
    return data.synthetic("direction", n=20, frames=4, size=16, seed=0)


def _epoch(loader, epoch):
    data.set_epoch(loader, epoch)
    return [tuple(t.clone() for t in batch) for batch in loader]


def test_batches_have_the_contract_layout(ds):
    clips, labels, lengths = next(iter(data.make_loader(ds, 8)))
    assert clips.shape == (8, 4, 16, 16, 3) and clips.dtype == torch.uint8
    assert labels.dtype == torch.int64 and lengths.tolist() == [4] * 8
    assert torch.equal(clips[0], torch.from_numpy(ds[0][0]))
    assert len(data.make_loader(ds, 8, drop_last=True)) == 2


def test_shuffle_and_transform_are_reproducible_per_epoch(ds):
    make = lambda: data.make_loader(ds, 5, shuffle=True, transform=data.clip_augment(), seed=1)
    a0, a1, b0 = _epoch(make(), 0), _epoch(make(), 1), _epoch(make(), 0)
    assert all(torch.equal(x, y) for p, q in zip(a0, b0) for x, y in zip(p, q))
    assert not torch.equal(a0[0][1], a1[0][1]) or not torch.equal(a0[0][0], a1[0][0])
    labels = torch.cat([b[1] for b in a0])
    assert sorted(labels.tolist()) == sorted(ds.labels.tolist())  # a permutation of the data


def test_workers_give_the_same_batches(ds):
    tf = data.clip_augment()
    single = _epoch(data.make_loader(ds, 5, shuffle=True, transform=tf, seed=2), 3)
    multi = _epoch(data.make_loader(ds, 5, shuffle=True, transform=tf, seed=2, num_workers=2), 3)
    assert all(torch.equal(x, y) for p, q in zip(single, multi) for x, y in zip(p, q))


def test_distributed_sampler_gets_the_epoch(ds):
    sampler = torch.utils.data.DistributedSampler(range(len(ds)), num_replicas=2, rank=0, shuffle=True, seed=0)
    loader = data.make_loader(ds, 4, sampler=sampler)
    data.set_epoch(loader, 5)
    assert sampler.epoch == 5 and loader.dataset.epoch == 5
    with pytest.raises(ValueError, match="either shuffle=True or a sampler"):
        data.make_loader(ds, 4, shuffle=True, sampler=sampler)


def test_augment_is_the_same_for_every_frame():
    frame = np.random.default_rng(0).integers(0, 256, (1, 16, 16, 3), dtype=np.uint8)
    clip = np.repeat(frame, 6, axis=0)  # a still clip stays still after augmentation
    tf = data.clip_augment(flip=True, shift=0.2, brightness=0.3, contrast=0.3)
    for seed in range(10):
        out = tf(clip, np.random.default_rng(seed))
        assert out.dtype == np.uint8 and out.shape == clip.shape
        assert (out == out[0]).all()
    no_flip = data.clip_augment(flip=False, shift=0, brightness=0, contrast=0)
    assert np.array_equal(no_flip(clip, np.random.default_rng(0)), clip)
    with pytest.raises(ValueError, match="shift=1.5"):
        data.clip_augment(shift=1.5)


def test_flip_reverses_left_and_right_and_augment_for_knows_when_that_changes_the_class():
    clip = np.zeros((2, 8, 8, 3), np.uint8)
    clip[:, :, 0] = 255  # a bright left column
    flip_only = data.clip_augment(flip=True, shift=0, brightness=0, contrast=0)
    outs = [flip_only(clip, np.random.default_rng(s)) for s in range(20)]
    assert any((o[:, :, -1] == 255).all() for o in outs) and any((o[:, :, 0] == 255).all() for o in outs)

    def bright_side(tf, seed):
        return "left" if tf(clip, np.random.default_rng(seed))[..., 0].mean((0, 1)).argmax() < 4 else "right"

    direction = data.synthetic("direction", n=8, frames=2, size=16)  # mirroring swaps left and right: no flips
    order = data.synthetic("order", n=8, frames=2, size=16, gap=1)  # mirroring keeps the class: flips
    assert {bright_side(data.augment_for(direction), s) for s in range(30)} == {"left"}
    part = data.subset(direction, [0, 1])  # a split reads its task from the root recipe
    assert {bright_side(data.augment_for(part), s) for s in range(30)} == {"left"}
    assert {bright_side(data.augment_for(order), s) for s in range(30)} == {"left", "right"}


def test_channel_stats():
    ds = data.ClipDataset(np.full((3, 2, 4, 4, 3), 51, np.uint8), [0, 0, 0], ["a"], "flat")
    mean, std = data.channel_stats(ds)
    assert mean == (0.2, 0.2, 0.2) and std == (0.0, 0.0, 0.0)
