"""labkit.data: built-in sequence tasks, your own videos and frame folders, splits, transforms, loaders.

    ds = data.synthetic("direction", n=2000, frames=16, size=64, seed=0)
    ds = data.folder("data/my_videos", frames=16, size=64)     # <root>/<class>/<clip>.mp4 or <clip>/*.png
    clip, label = ds[0]                                        # uint8 (T, H, W, C), int
    tr, va, te = data.split(ds, (0.7, 0.15, 0.15), seed=0)      # group-aware, stratified
    loader = data.make_loader(tr, 32, shuffle=True, transform=data.augment_for(tr))
    again = data.from_recipe(te.recipe)                        # a JSON-ready dict: the same clips again
    new = data.from_recipe(data.fresh_recipe(te.recipe, seed=1))  # synthetic: same task, new clips
    data.write_dataset(ds, "data/my_videos", format="mp4")     # real videos + manifest.csv, for folder()
    report = data.inspect("data/my_videos")                    # per class and per clip, with problems
    for t, frame in data.stream_frames("long.mp4", size=64): ...  # a long video, frame by frame
"""
from .dataset import ClipDataset, subset
from .export import write_dataset, write_video
from .files import folder, manifest
from .inspection import Inspection, inspect
from .loader import make_loader, set_epoch
from .problems import DataError
from .recipes import fresh_recipe, from_recipe
from .splitting import split, split_indices
from .stream import frame_rate, sliding_windows, stream_frames
from .tasks import TASKS, synthetic
from .transforms import augment_for, channel_stats, clip_augment

__all__ = ["ClipDataset", "DataError", "Inspection", "TASKS", "augment_for", "channel_stats", "clip_augment",
           "folder", "fresh_recipe", "from_recipe", "inspect", "make_loader", "manifest", "set_epoch", "split",
           "split_indices", "stream_frames", "sliding_windows", "frame_rate", "subset", "synthetic", "write_dataset", "write_video"]
