"""Lesson: hand-crafted features against features a CNN learns. The same GRU and head over four
frame encoders: the learned CNN (`default`), and fixed ones with no parameters to learn: Sobel
edge energy, histograms of oriented gradients and the raw pixels averaged over cells
(`DCRNConfig.frame_encoder`; see `models/encoders.py`).

Settings: `direction`, 16 frames of 32 x 32 pixels, 600 clips (80% train, 20% validation) and
400 fresh clips to test on; the CNN as the `default` preset has it (keypoints readout); the
hand-crafted encoders on 4 x 4 pixel cells (8 x 8 maps) with the flatten readout (their maps
keep position in the layout; the keypoints readout, tuned to the CNN's maps, learned less on
them in a trial); Adam 3e-3, batch 16, 6 epochs (15 in full mode, on 1,000 clips); 3 seeds (5).
"""
from __future__ import annotations

import time

import pandas as pd

from labkit import data, models, runs, train

from .claims import above
from .result import LessonResult, lessons_root, test_accuracy

QUICK = dict(seeds=(0, 1, 2), n=600, epochs=6)
FULL = dict(seeds=(0, 1, 2, 3, 4), n=1000, epochs=15)
DATA = dict(frames=16, size=32, test_n=400)
TRAIN = dict(batch_size=16, lr=3e-3)
# the frame readout of each (the hand-crafted maps are 8 x 8 cells: DCRNConfig.encoder_cell=4 on 32 pixels)
ENCODERS = {"cnn": "keypoints", "sobel": "flatten", "hog": "flatten", "pixels": "flatten"}
CHANCE = 1 / 8


def direction_data(n: int, frames: int, size: int, test_n: int) -> tuple:
    """(train, validation, test) of `direction`: n clips split 80/20 (seed 0), and test_n fresh
    clips of another seed, as lesson 1 makes them."""
    make = lambda count, seed: data.synthetic("direction", n=count, frames=frames, size=size, seed=seed)  # noqa: E731
    return (*data.split(make(n, 0), (0.8, 0.2), seed=0), make(test_n, 1000))


def frame_encoders(quick: bool = False, root=None, progress: bool = True) -> LessonResult:
    """Test accuracy, parameters and FLOPs per frame encoder, over seeds."""
    start, p = time.perf_counter(), QUICK if quick else FULL
    tr, va, te = direction_data(p["n"], DATA["frames"], DATA["size"], DATA["test_n"])
    points = [{"frame_encoder": e, "frame_readout": r, "seed": s} for e, r in ENCODERS.items() for s in p["seeds"]]
    table = train.sweep("default", tr, va, points, lessons_root(root) / "frame_encoders" / f"n={p['n']}",
                        progress=progress, epochs=p["epochs"], **TRAIN)
    table["test_accuracy"] = test_accuracy(table, te)
    costs = pd.DataFrame([_cost(e, DATA) for e in ENCODERS])
    summary = runs.summarize(table, by="frame_encoder", metric="test_accuracy").merge(costs, on="frame_encoder")

    def acc(encoder):
        return table[table.frame_encoder == encoder]["test_accuracy"].to_numpy()

    name = "frame_encoders"
    claims = [above(name, f"the GRU learns direction over {label} (no weights in the encoder): test accuracy above "
                          f"chance ({CHANCE:.3f}) by more than 0.1", acc(e), CHANCE + 0.1, "accuracy")
              for e, label in (("sobel", "Sobel edge energy"), ("hog", "histograms of oriented gradients"),
                               ("pixels", "raw pixels averaged over cells"))]
    claims.append(above(name, "the learned CNN does too", acc("cnn"), CHANCE + 0.1, "accuracy"))
    return LessonResult(name, "Hand-crafted features against a learned CNN", {**p, **DATA, **TRAIN, "quick": quick},
                        table, summary, claims, seconds=time.perf_counter() - start)


def _cost(encoder: str, d: dict) -> dict:
    """Parameters (whole model and its encoder) and forward FLOPs per clip of one encoder's model."""
    cfg = models.preset_config("default", num_classes=8, img_size=d["size"], frame_encoder=encoder,
                               frame_readout=ENCODERS[encoder])
    s = models.summary(cfg, frames=d["frames"])
    rows = s.table[s.table.layer.str.startswith(("blocks", "encoder"))]
    return {"frame_encoder": encoder, "params": s.totals["params"], "encoder_params": int(rows.params.sum()),
            "flops_per_clip": s.totals["flops_per_clip"], "encoder_flops_per_clip": int(rows.flops.sum())}
