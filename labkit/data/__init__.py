"""labkit.data: built-in sequence tasks, your own videos and frame folders, splits, transforms, loaders.

    ds = data.synthetic("direction", n=2000, frames=16, size=64, seed=0)
    ds = data.folder("data/my_videos", frames=16, size=64)     # <root>/<class>/<clip>.mp4 or <clip>/*.png
    clip, label = ds[0]                                        # uint8 (T, H, W, C), int
    tr, va, te = data.split(ds, (0.7, 0.15, 0.15), seed=0)      # group-aware, stratified
    loader = data.make_loader(tr, 32, shuffle=True, transform=data.clip_augment())
"""
from .dataset import ClipDataset, subset
from .synthetic import TASKS, synthetic

__all__ = ["ClipDataset", "TASKS", "subset", "synthetic"]
