"""Lesson: labels are scarce, clips are not. Pretrain a DCRN on clips without labels (a pretext
task that needs time: are these frames in order?), then fine-tune it on 5 labelled clips per
class, against the same model trained from scratch on the same 5 clips per class.

Settings: `direction` with `features.FAST_DIRECTION` (a larger disc moving 1.5 to 2.5 pixels a
frame), 8 frames of 16 x 16 pixels; 1,000 unlabelled clips (a seed of their own, none of them
labelled or tested on; 2,000 in full mode); 5 labelled clips per class drawn per seed from a
pool of 400; 400 fresh clips to test on; the `default` preset. Pretraining: order verification
(`train.pretrain`), Adam 3e-3, batch 32, up to 8 epochs (15 in full mode), stopping at 0.95
pretext validation accuracy (the pretext is learned abruptly, after 2 to 8 epochs depending on
the seed), 10% of the pretext clips to validate it. Fine-tuning and scratch alike: Adam 3e-3,
batch 8, the updates of 60 epochs on the 40 labelled clips (run as 15 epochs over them repeated
4 times: `scarce_data.repeated`), no validation set (there are no more labels; the best epoch is
the best training accuracy); fine-tuning keeps the pretrained frame encoder fixed and trains the
GRU and head (training the encoder too on 40 clips did worse in a trial). 3 seeds (5 in full
mode, on the videos too), each drawing the labelled clips, the initial weights and the training
order. The gain's criterion is the issue's: a mean gain of at least 0.10 over the seeds, with
the 95% interval of the gain above 0 (`gain`).

Full mode runs the same experiment on a folder of real .mp4 videos too (`data.write_dataset` of
the same kind of clips, read back with `data.folder`), and pretrains with arrow of time, which
`direction` cannot teach: a clip played backwards is just a clip of the opposite direction.
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd

from labkit import data, models, runs, train
from labkit.runs import record
from labkit.train.sweeps import USER_STOPS

from .claims import Claim, above, below, gap
from .features import FAST_DIRECTION
from .scarce_data import repeated
from .result import LessonResult, lessons_root, test_accuracy

DATA = dict(task="direction", frames=8, size=16, options=FAST_DIRECTION, per_class=5, pool=400, test_n=400)
QUICK = dict(DATA, seeds=(0, 1, 2), unlabelled=1000, pretext_epochs=8, fine_tune_epochs=60, folder=False, arrow=False)
FULL = dict(QUICK, seeds=(0, 1, 2, 3, 4), unlabelled=2000, pretext_epochs=15, folder=True, arrow=True)
PRETEXT_TARGET = 0.95  # a pretext run stops once its validation accuracy reaches this
PRETRAIN = dict(batch_size=32, lr=3e-3)
FINE_TUNE = dict(batch_size=8, lr=3e-3)
MARGIN = 0.10
CHANCE = 1 / 8


def synthetic_sources(p: dict) -> dict:
    """(unlabelled clips, labelled pool, test clips) of the built-in task: three seeds, no overlap."""
    make = lambda n, seed: data.synthetic(p["task"], n=n, frames=p["frames"], size=p["size"], seed=seed,  # noqa: E731
                                          **p.get("options", {}))
    return {"unlabelled": make(p["unlabelled"], 100), "pool": make(p["pool"], 0), "test": make(p["test_n"], 1000)}


def video_sources(p: dict, folder) -> dict:
    """The same three sets written as real .mp4 files under `folder` (once; reused after) and read
    back with `data.folder`: what the lesson looks like on a folder of videos."""
    out = {}
    for part, ds in synthetic_sources(p).items():
        path = folder / part
        if not (path / "manifest.csv").is_file():
            data.write_dataset(ds, path, format="mp4", progress=False, overwrite=path.exists())
        out[part] = data.folder(path, frames=p["frames"], size=p["size"], progress=False)
    return out


def few_labels(pool, per_class: int, seed: int):
    """`per_class` clips of every class of `pool`, drawn by `seed`."""
    rng = np.random.default_rng([seed, per_class])
    return data.subset(pool, np.concatenate([rng.choice(np.flatnonzero(pool.labels == c), per_class, replace=False)
                                             for c in range(pool.num_classes)]))


def pretrained_body(sources: dict, task: str, seed: int, epochs: int, root, progress: bool) -> pd.Series:
    """Pretrain a `default` model on the unlabelled clips (reusing a finished run, resuming a
    partial one) -> its runs row."""
    run_dir = root / f"pretext={task},seed={seed}"
    if not _pretext_finished(run_dir, epochs):
        size = int(sources["pool"][0][0].shape[1])
        model = models.preset("default", num_classes=sources["pool"].num_classes, img_size=size, seed=seed)
        resume = run_dir if (run_dir / record.LAST).is_file() else None
        train.pretrain(model, sources["unlabelled"], task, epochs=epochs, run_dir=run_dir, resume=resume, seed=seed,
                       callbacks=[train.StopAtTarget(PRETEXT_TARGET)], progress=progress, **PRETRAIN)
    return runs.table(run_dir).iloc[0]


def _pretext_finished(run_dir, epochs: int) -> bool:
    """True when run_dir holds a pretext run that ran its epochs or that a callback ended (its
    target reached): resumed, it would train on, and the fine-tuned runs built on it would no
    longer match it."""
    if not (run_dir / record.METRICS).is_file():
        return False
    metrics = record.read_metrics(run_dir)
    stopped = metrics["stopped"] or ""
    return metrics["epochs"] >= epochs or bool(stopped) and not stopped.startswith(USER_STOPS)


def fine_tuned(sources: dict, pretext_runs: dict, p: dict, root, progress: bool) -> pd.DataFrame:
    """For every seed: the model from scratch and the pretrained one, trained on that seed's few
    labelled clips (finished runs reused) -> runs rows with `start` and test_accuracy."""
    tables = []
    for seed, pre_dir in pretext_runs.items():
        few = few_labels(sources["pool"], p["per_class"], seed)
        epochs = p["fine_tune_epochs"] * len(few) // len(repeated(few))  # the same updates over the repeated clips

        def build(start, seed):
            model = models.preset("default", num_classes=few.num_classes, img_size=p["size"], seed=seed)
            if start == "pretrained":
                models.copy_body(runs.load(pre_dir), model)
                model.frame_encoder.requires_grad_(False)  # keep the pretrained encoder; train the GRU and head
            return model

        table = train.sweep(build, repeated(few), None, {"start": ["scratch", "pretrained"], "seed": [seed]},
                            root / f"seed={seed}", progress=progress, epochs=max(1, epochs), **FINE_TUNE)
        tables.append(table.assign(test_accuracy=test_accuracy(table, sources["test"])))
    return pd.concat(tables, ignore_index=True)


def experiment(sources: dict, p: dict, root, progress: bool = True, task: str = "order_verification",
               name: str = "synthetic") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pretext runs and the fine-tuning runs of one data source (a dict of unlabelled, pool
    and test clips) under settings `p` (QUICK's keys) -> (runs table with `start`, `source`,
    `pretext` and test_accuracy; the pretext runs' table). Finished runs under `root` are reused."""
    pretext = pd.DataFrame([pretrained_body(sources, task, s, p["pretext_epochs"], root / "pretext", progress)
                            for s in p["seeds"]]).assign(seed=list(p["seeds"]), source=name, pretext=task)
    table = fine_tuned(sources, dict(zip(p["seeds"], pretext["path"])), p, root / f"fine_tune,{task}", progress)
    return table.assign(source=name, pretext=task), pretext


def pretraining(quick: bool = False, root=None, progress: bool = True) -> LessonResult:
    """Test accuracy from scratch and after pretraining, per data source, over seeds."""
    start, p = time.perf_counter(), QUICK if quick else FULL
    base = lessons_root(root) / "pretraining" / f"unlabelled={p['unlabelled']}"
    three = dict(p, seeds=p["seeds"][:3])
    parts = [experiment(synthetic_sources(p), p, base / "synthetic", progress)]
    if p["folder"]:
        parts.append(experiment(video_sources(p, base / "videos"), p, base / "videos", progress, name="videos"))
    if p["arrow"]:
        parts.append(experiment(synthetic_sources(p), three, base / "synthetic", progress, task="arrow_of_time"))
    table = pd.concat([t for t, _ in parts], ignore_index=True)
    pretext = pd.concat([pre for _, pre in parts], ignore_index=True)
    summary = runs.summarize(table, by=["source", "pretext", "start"], metric="test_accuracy")
    return LessonResult("pretraining", "Few labels: self-supervised pretraining, then fine-tuning",
                        {**p, "pretrain": PRETRAIN, "fine_tune": FINE_TUNE, "quick": quick}, table, summary,
                        _claims(table, pretext, p), extra={"pretext": pretext}, seconds=time.perf_counter() - start)


def gain(text: str, pretrained, scratch) -> Claim:
    """The issue's criterion for pretraining: the mean gain over seeds is at least MARGIN, and the
    gain is real (the 95% interval of the difference lies above 0). A few seeds of few-label runs
    vary too much for the whole interval to clear MARGIN as well, so the mean carries it."""
    c = gap("pretraining", text, pretrained, scratch, 0.0, ("pretrained", "scratch"))
    return dataclasses.replace(c, supported=c.supported and c.measured >= MARGIN, threshold=MARGIN,
                               comparison="mean >=")


def _claims(table: pd.DataFrame, pretext: pd.DataFrame, p: dict) -> list:
    def acc(source, start, task="order_verification"):
        rows = table[(table.source == source) & (table.start == start) & (table.pretext == task)]
        return rows["test_accuracy"].to_numpy()

    name, n, k = "pretraining", f"{p['unlabelled']:,}", p["per_class"]
    learned = pretext[(pretext.pretext == "order_verification") & (pretext.source == "synthetic")]
    claims = [above(name, f"order verification is learned from {n} unlabelled clips alone: the pretext's validation "
                          f"accuracy is above 0.9 (chance 0.5)", learned["best_val_accuracy"].to_numpy(), 0.9,
                    "pretext validation accuracy"),
              gain(f"with {k} labelled clips per class, pretraining on {n} unlabelled clips (order verification) "
                   f"then fine-tuning beats the same model trained from scratch on {p['task']}: a mean gain of at "
                   f"least {MARGIN} test accuracy, its 95% interval above 0", acc("synthetic", "pretrained"),
                   acc("synthetic", "scratch"))]
    if p["folder"]:
        claims.append(gain(f"on a folder of .mp4 videos too: a mean gain of at least {MARGIN} with {k} labelled clips "
                           f"per class, its 95% interval above 0", acc("videos", "pretrained"), acc("videos", "scratch")))
    if p["arrow"]:
        arrow = pretext[pretext.pretext == "arrow_of_time"]["best_val_accuracy"].to_numpy()
        claims.append(below(name, f"arrow of time cannot be learned on {p['task']} (a reversed clip is a clip of "
                                  f"the opposite direction): its pretext stays within 0.1 of chance (0.5)",
                            arrow, 0.6, "pretext validation accuracy"))
    return claims
