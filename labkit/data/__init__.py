"""labkit.data: built-in sequence tasks, your own videos and frame folders, splits, transforms, loaders.

    ds = data.synthetic("direction", n=2000, frames=16, size=64, seed=0)
    ds = data.folder("data/my_videos", frames=16, size=64)     # <root>/<class>/<clip>.mp4 or <clip>/*.png
    clip, label = ds[0]                                        # uint8 (T, H, W, C), int
    tr, va, te = data.split(ds, (0.7, 0.15, 0.15), seed=0)      # group-aware, stratified
    loader = data.make_loader(tr, 32, shuffle=True, transform=data.augment_for(tr))
"""
from .dataset import ClipDataset, subset
from .folder import folder, manifest
from .inspect import Inspection, inspect
from .loader import make_loader, set_epoch
from .problems import DataError
from .split import split, split_indices
from .synthetic import TASKS, synthetic
from .transforms import augment_for, channel_stats, clip_augment

__all__ = ["ClipDataset", "DataError", "Inspection", "TASKS", "augment_for", "channel_stats", "clip_augment",
           "folder", "inspect", "make_loader", "manifest", "set_epoch", "split", "split_indices", "subset",
           "synthetic"]
