"""`make_loader(ds, batch_size, ...)`: a torch DataLoader of `(clips uint8 (B, T, H, W, C), labels
int64 (B,), lengths int64 (B,))`, reproducible: shuffling and each clip's transform rng come from
(seed, epoch, index), set per epoch with `set_epoch(loader, epoch)`."""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler

from labkit.errors import LabkitError
from .dataset import ClipDataset, pad_clips
from .transforms import Transform


class _Clips(Dataset):
    """ClipDataset -> (clip, label) with the transform applied under rng(seed, epoch, index)."""

    def __init__(self, ds: ClipDataset, transform: Transform | None, seed: int):
        self.ds, self.transform, self.seed, self.epoch = ds, transform, seed, 0

    def __len__(self) -> int:
        return len(self.ds)

    def __getitem__(self, i: int):
        clip, label = self.ds[i]
        if self.transform is not None:
            clip = self.transform(clip, np.random.default_rng([self.seed, self.epoch, int(i)]))
        return clip, label


class EpochShuffle(Sampler):
    """A permutation of range(n) drawn from (seed, epoch): the same order for the same epoch."""

    def __init__(self, n: int, seed: int = 0):
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        # 2**31: a stream no clip index uses, so the order is independent of every clip's transform rng
        return iter(np.random.default_rng([self.seed, self.epoch, 2**31]).permutation(self.n).tolist())


def collate(batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """[(clip uint8 (T_i, H, W, C), label)] -> (clips uint8 (B, max T_i, H, W, C) zero-padded,
    labels int64 (B,), lengths int64 (B,))."""
    clips, lengths = pad_clips([c for c, _ in batch])
    labels = torch.tensor([label for _, label in batch], dtype=torch.int64)
    return torch.from_numpy(clips), labels, torch.from_numpy(lengths)


def make_loader(ds: ClipDataset, batch_size: int, shuffle: bool = False, transform: Transform | None = None,
                seed: int = 0, num_workers: int = 0, pin_memory: bool = False, drop_last: bool = False,
                sampler=None) -> DataLoader:
    """A DataLoader over ds yielding (clips uint8 (B, T, H, W, C), labels int64 (B,), lengths int64 (B,)).

    shuffle: a fresh order per epoch from (seed, epoch); transform(clip, rng): e.g. clip_augment();
    sampler: e.g. a DistributedSampler (then shuffle must be False); pin_memory only takes effect
    when CUDA is available. Call `set_epoch(loader, epoch)` before each epoch.
    """
    if batch_size < 1:
        raise LabkitError(f"batch_size={batch_size} must be >= 1")
    if sampler is not None and shuffle:
        raise LabkitError("pass either shuffle=True or a sampler (which decides the order), not both")
    if len(ds) == 0:
        raise LabkitError(f"dataset {ds.name!r} is empty: nothing to load")
    if shuffle:
        sampler = EpochShuffle(len(ds), seed)
    return DataLoader(_Clips(ds, transform, seed), batch_size=batch_size, sampler=sampler, num_workers=num_workers,
                      pin_memory=pin_memory and torch.cuda.is_available(), drop_last=drop_last, collate_fn=collate,
                      persistent_workers=False)  # workers are re-made each epoch, so they see the new epoch


def set_epoch(loader: DataLoader, epoch: int) -> None:
    """Set the epoch that seeds shuffling and transforms (and a DistributedSampler's epoch)."""
    loader.dataset.epoch = int(epoch)
    if isinstance(loader.sampler, (EpochShuffle, DistributedSampler)):
        loader.sampler.set_epoch(int(epoch))
