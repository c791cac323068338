"""`pretrain()`: self-supervised pretraining on clips without labels, then fine-tuning on a few.

A pretext task makes labels out of the clips themselves: each clip is shown as it is and
changed in a way only time reveals, and the model learns to tell which.

    "order_verification"   in order, or its frames shuffled (a random permutation): telling them
                           apart needs where things are in each frame and how they move on
    "arrow_of_time"        played forwards, or backwards: needs what moves and a sense of which
                           way things go (on data whose motion is as likely either way, e.g.
                           `direction`, where a reversed clip is just another clip, it cannot be
                           learned, and a pretext run shows that by staying at chance)

The pretext model shares the model's body (frame encoder, readout, temporal model; see
`models.with_head`) under a head of its own, and trains through `fit` itself: the run folder,
history, checkpoints, resume, the writer lock and DDP under torchrun are fit's. So afterwards
the model's body holds the pretrained weights (those of the best pretext epoch), its head is as
it was, and `fit(model, few_labelled, ...)` fine-tunes it:

    result = train.pretrain(model, unlabelled, task="order_verification", epochs=6, run_dir="runs/pre")
    model.frame_encoder.requires_grad_(False)      # optional: keep the pretrained encoder as it is
    train.fit(model, few_labelled, None, epochs=60, lr=3e-3)
    models.copy_body(runs.load("runs/pre"), other_model)   # a pretraining run reused later
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from labkit import data, models
from labkit.data.dataset import ClipDataset
from labkit.errors import LabkitError
from labkit.runs import record

from .config import TrainConfig
from .engine import fit
from .progress import counted_run
from .state import FitResult


def _shuffled(clip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The clip's frames in a random order other than their own (for 2 frames: reversed)."""
    T = len(clip)
    order = rng.permutation(T)
    while T > 1 and (order == np.arange(T)).all():
        order = rng.permutation(T)
    return clip[order]


# name -> (class names: the clip as it is first, then changed; the change: (clip, rng) -> clip)
PRETEXT_TASKS = {
    "order_verification": (("in order", "shuffled"), _shuffled),
    "arrow_of_time": (("forwards", "backwards"), lambda clip, rng: clip[::-1]),
}


class PretextClips:
    """Clip storage for a pretext dataset: row 2i is clip i of `ds` as it is, row 2i + 1 the same
    clip changed by the task (with an rng drawn from (seed, i), so a row is always the same
    clip). Made on access: nothing is copied up front."""

    def __init__(self, ds, change, seed: int):
        self.ds, self.change, self.seed = ds, change, seed

    def __len__(self) -> int:
        return 2 * len(self.ds)

    def __getitem__(self, row: int) -> np.ndarray:
        i, changed = divmod(int(row), 2)
        clip = self.ds[i][0]  # uint8 (T, H, W, C)
        if not changed:
            return clip
        return np.ascontiguousarray(self.change(clip, np.random.default_rng([self.seed, i])))


def pretext_dataset(ds, task: str = "order_verification", seed: int = 0) -> ClipDataset:
    """The labelled pretext data made from the clips of `ds` (their labels, if any, are ignored):
    2N clips, each as it is (class 0) and changed (class 1). Both versions of a clip share a
    group (`ds.groups` where it has them), so a split never puts one on each side. Its recipe
    {"kind": "pretext", "task", "seed", "of": ds.recipe} records what it was made of."""
    if task not in PRETEXT_TASKS:
        raise LabkitError(f"unknown pretext task {task!r}; choose one of {list(PRETEXT_TASKS)}")
    if len(ds) == 0:
        raise LabkitError("pretrain: the unlabelled dataset is empty")
    classes, change = PRETEXT_TASKS[task]
    n = len(ds)
    groups = np.repeat(ds.groups if ds.groups is not None else np.arange(n), 2)
    recipe = None if ds.recipe is None else {"kind": "pretext", "task": task, "seed": int(seed), "of": ds.recipe}
    return ClipDataset(PretextClips(ds, change, seed), np.tile([0, 1], n), classes, f"{ds.name} ({task})",
                       groups=groups, lengths=None if ds.lengths is None else np.repeat(ds.lengths, 2),
                       recipe=recipe)


def pretrain(model, unlabelled_ds, task: str = "order_verification", epochs: int | None = None, *,
             val_fraction: float = 0.1, config: TrainConfig | None = None, run_dir=None, resume=None,
             callbacks=(), progress: bool = True, **overrides) -> FitResult:
    """Pretrain `model`'s body on the pretext `task` over the clips of `unlabelled_ds` (a
    ClipDataset: its labels are never read) and return the pretext run's FitResult.

    The pretext model (`models.with_head`: the same body, a head for the task's 2 classes,
    seeded by the training seed) is trained by `fit`, with `val_fraction` of the clips held out
    to validate it (0: none; the best epoch is then the best training accuracy). epochs, config,
    **overrides, run_dir, resume, callbacks, progress: as for `fit` (resuming without a config
    keeps the run's own settings; a run folder records the pretext data's recipe, so resuming on
    other clips or another task is refused). Afterwards `model`'s body holds the weights of the
    best pretext epoch and its head is untouched.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise LabkitError(f"pretrain: val_fraction={val_fraction} must lie in [0, 1)")
    if epochs is not None:
        overrides["epochs"] = epochs
    seed = _training_seed(config, overrides, resume)
    pretext = pretext_dataset(unlabelled_ds, task, seed=seed)
    train_ds, val_ds = (pretext, None) if val_fraction == 0 else \
        data.split(pretext, (1 - val_fraction, val_fraction), seed=seed)
    head = models.with_head(model, len(pretext.classes), seed=seed)
    with counted_run(f"pretrain {task}") as counted:  # inside train.one_bar: one tick of it, no bar of its own
        return fit(head, train_ds, val_ds, config, run_dir=run_dir, resume=resume, callbacks=callbacks,
                   progress=progress and not counted, **overrides)


def _training_seed(config: TrainConfig | None, overrides: dict, resume) -> int:
    """The seed the run trains with (it also draws the pretext data and the pretext head): given,
    else the resumed run's own, else TrainConfig's default."""
    if "seed" in overrides:
        return int(overrides["seed"])
    if config is not None:
        return config.seed
    saved = Path(resume) / record.CONFIG if resume is not None else None
    if saved is not None and saved.is_file():
        return int((record.read_config(resume).get("train") or {}).get("seed", TrainConfig().seed))
    return TrainConfig().seed
