"""`evaluate_faithfulness`: every check on a sample of a dataset, summarised in one table."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .core import attribute
from .deletion import OVER, curve_auc, deletion_insertion
from .pointing import pointing_game
from .randomization import randomization_check

RANDOMIZATION_THRESHOLD = 0.3  # rank correlation after full randomisation must fall below this
CHECKS = ("deletion", "randomization", "pointing")


@dataclass(frozen=True, eq=False)
class Evaluation:
    """What one `evaluate_faithfulness` call measured: the method and its parameters, the
    clips (dataset indices) and the checks. First entry of the summary's `attrs`.

    Compared by identity (eq=False). pandas compares `attrs` dicts when concatenating and
    Python compares dict entries in order, so two summaries differ at this first entry and
    their detail DataFrames (which cannot be compared with ==) are never compared:
    `pd.concat` of summaries works and the combined table carries no details.
    """

    method: str
    indices: tuple[int, ...]
    checks: tuple[str, ...]
    params: dict = field(default_factory=dict)


def sample_indices(ds, n: int, seed: int = 0) -> np.ndarray:
    """n clip indices drawn without replacement from a seeded local generator, sorted."""
    if n < 1:
        raise ValueError(f"n must be >= 1; got {n}")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(len(ds), size=min(n, len(ds)), replace=False))


def evaluate_faithfulness(model, ds, method: str = "integrated_gradients", n: int = 16, indices=None,
                          target=None, checks=CHECKS, over=OVER, steps: int = 20, n_random: int = 20,
                          baseline: str | None = None, deletion_baseline: str = "temporal_mean", seed: int = 0,
                          memory_mb: float | None = None,
                          **params) -> pd.DataFrame:
    """Is `method` faithful to `model` on `ds`? Deletion/insertion, randomisation and pointing.

    Draws n clips (or takes `indices`), attributes them (target None: the predicted class;
    `baseline`, when given, for the methods that take one) and runs the chosen checks (`deletion_baseline`:
    what removed frames/tiles become, see `deletion_insertion`). Returns a summary with one row per measurement: check, over,
    value, reference, passed (deletion: AUC vs the random-order mean; randomisation: Spearman
    of |maps| after each cascade step, passed only judged after the last, vs 0.3, and of the
    signed maps after the last; pointing: hit rate and
    evidence mass share on correctly classified clips vs chance). The detailed tables ride along
    in `summary.attrs`: "curves", "auc", "randomization", "pointing" (those of the checks run),
    after "evaluation" (an `Evaluation`: method, parameters, clip indices, checks).
    Summaries of several methods concatenate with `pd.concat` (the result keeps no attrs).
    """
    if unknown := sorted(set(checks) - set(CHECKS)):
        raise ValueError(f"unknown check(s) {unknown}; choose from {list(CHECKS)}")
    idx = sample_indices(ds, n, seed) if indices is None else np.asarray(indices)
    clips = np.stack([ds[int(i)][0] for i in idx])  # (n, T, H, W, C)
    labels = np.asarray(ds.labels)[idx]
    kw = dict(classes=ds.classes, memory_mb=memory_mb, **params)
    if baseline is not None:
        kw["baseline"] = baseline
    attr = attribute(model, clips, target=target, method=method, **kw)
    rows, details = [], {}
    if "deletion" in checks:
        curves = deletion_insertion(model, clips, attr, over=over, steps=steps, n_random=n_random,
                                    baseline=deletion_baseline, seed=seed, memory_mb=memory_mb)
        auc = curve_auc(curves)
        details.update(curves=curves, auc=auc)
        rows += [{"check": r.curve, "over": r.over, "value": r.auc_attribution, "reference": r.auc_random,
                  "passed": bool(r.passed)} for r in auc.itertuples()]
    if "randomization" in checks:
        rand = randomization_check(model, clips, method, target=attr.target, seed=seed, **kw)
        details["randomization"] = rand
        steps_ = (rand[rand.step > 0].groupby(["step", "layer"], sort=True)[["spearman", "spearman_signed"]]
                  .mean().reset_index())
        last = steps_["step"].max()
        rows += [{"check": "randomization", "over": r.layer, "value": r.spearman,
                  "reference": RANDOMIZATION_THRESHOLD if r.step == last else np.nan,
                  "passed": bool(r.spearman < RANDOMIZATION_THRESHOLD) if r.step == last else None}
                 for r in steps_.itertuples()]
        final = steps_.iloc[-1]
        rows.append({"check": "randomization (signed)", "over": final.layer, "value": final.spearman_signed,
                     "reference": RANDOMIZATION_THRESHOLD,
                     "passed": bool(final.spearman_signed < RANDOMIZATION_THRESHOLD)})
    if "pointing" in checks and getattr(ds, "evidence_frames", None) is not None:
        ev_frames = np.asarray(ds.evidence_frames)[idx]
        ev_masks = np.stack([ds.evidence_mask(int(i)) for i in idx])
        pg = pointing_game(attr, ev_frames, ev_masks, labels=labels)
        details["pointing"] = pg
        ok = pg[pg["correct"]] if pg["correct"].any() else pg
        for over_, value, ref in (("frames", ok.frame_hit.mean(), ok.frame_chance.mean()),
                                  ("pixels", ok.pixel_hit.mean(), ok.pixel_chance.mean()),
                                  ("mass", ok.mass_share.mean(), ok.area_share.mean())):
            rows.append({"check": "pointing", "over": over_, "value": float(value), "reference": float(ref),
                         "passed": bool(value > ref)})
    summary = pd.DataFrame(rows, columns=["check", "over", "value", "reference", "passed"])
    summary.insert(0, "method", method)
    evaluation = Evaluation(method=method, indices=tuple(int(i) for i in idx), checks=tuple(checks),
                            params={**params, "target": target, "baseline": baseline, "over": tuple(over),
                                    "steps": steps, "n_random": n_random, "deletion_baseline": deletion_baseline,
                                    "seed": seed})
    summary.attrs = {"evaluation": evaluation, **details}  # "evaluation" first: see `Evaluation`
    return summary
