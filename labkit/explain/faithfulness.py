"""`evaluate_faithfulness`: every check on a sample of a dataset, gathered in a `FaithfulnessReport`."""
from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from labkit.errors import LabkitError
from .core import attribute
from .deletion import OVER, curve_auc, deletion_insertion
from .pointing import pointing_game
from .randomization import randomization_check
from .verdicts import verdict

RANDOMIZATION_THRESHOLD = 0.3  # rank correlation after full randomisation must fall below this
CHECKS = ("deletion", "randomization", "pointing")
JUDGED = ("difference", "ci_low", "ci_high", "verdict", "passed")  # see verdicts.verdict
SUMMARY_COLUMNS = ("method", "check", "over", "value", "reference", *JUDGED)
DETAILS = ("curves", "auc", "randomization", "pointing")  # the detail tables, in the order checks make them


@dataclass(eq=False)
class FaithfulnessReport:
    """What `evaluate_faithfulness` measured for one method, or for several (`concat`).

    method: the method's name; a concatenation joins its methods' names with "+" in order
    ("saliency+frame_ablation", see `methods`). indices: dataset indices of the clips evaluated
    (sorted). checks: the checks run. params: the call's parameters (the method's, target,
    baselines, over, steps, n_random, seed); a report of several methods holds
    {method: its params}.
    summary: one row per measurement: method, check, over, value, reference, passed.
    curves (method + `deletion_insertion`'s columns) and auc (method + `curve_auc`'s): None
    without the "deletion" check; randomization (method + `randomization_check`'s): None
    without "randomization"; pointing (method + `pointing_game`'s): None without "pointing"
    or on data without ground-truth evidence. Every table starts with a `method` column, so
    reports concatenate by concatenating their tables, and viz plots a report as it is.
    Compared by identity (eq=False): tables have no single truth value.
    """

    method: str
    indices: tuple[int, ...]
    checks: tuple[str, ...]
    params: dict
    summary: pd.DataFrame
    curves: pd.DataFrame | None = None
    auc: pd.DataFrame | None = None
    randomization: pd.DataFrame | None = None
    pointing: pd.DataFrame | None = None

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods this report covers, in order: one, or several after `concat`."""
        return tuple(self.method.split("+"))

    @classmethod
    def concat(cls, reports) -> FaithfulnessReport:
        """One report of several methods: every table concatenated (rows keep their `method`).

        method: the names joined with "+"; indices: the sorted union of the clips; checks:
        every check any report ran, in order; params: {method: its params}. A method may
        appear in one report only: its rows could not be told apart otherwise.
        """
        reports = list(reports)
        if not reports:
            raise LabkitError("FaithfulnessReport.concat needs at least one report")
        params = {m: p for r in reports for m, p in
                  (r.params.items() if len(r.methods) > 1 else [(r.method, r.params)])}
        names = [m for r in reports for m in r.methods]
        if len(set(names)) < len(names):
            twice = sorted({m for m in names if names.count(m) > 1})
            raise LabkitError(f"method(s) {twice} appear in more than one report, so their rows could not be "
                             "told apart; concatenate reports of different methods")

        def joined(name: str) -> pd.DataFrame | None:
            tables = [getattr(r, name) for r in reports if getattr(r, name) is not None]
            return pd.concat(tables, ignore_index=True) if tables else None

        return cls(method="+".join(names), indices=tuple(sorted({i for r in reports for i in r.indices})),
                   checks=tuple(dict.fromkeys(c for r in reports for c in r.checks)),
                   params=params if len(names) > 1 else params[names[0]], summary=joined("summary"),
                   **{name: joined(name) for name in DETAILS})

    def _heading(self) -> str:
        tables = [name for name in DETAILS if getattr(self, name) is not None]
        return (f"FaithfulnessReport of {self.method} on {len(self.indices)} clip(s); checks: "
                f"{', '.join(self.checks) or 'none'}; tables: summary, {', '.join(tables) or 'no details'}")

    def __repr__(self) -> str:
        return self._heading() + "\n" + self.summary.to_string(index=False)

    def _repr_html_(self) -> str:
        """A notebook cell ending in a report shows its heading and its summary table."""
        return f"<p><b>{html.escape(self._heading())}</b></p>" + self.summary.to_html(index=False)


def sample_indices(ds, n: int, seed: int = 0) -> np.ndarray:
    """n clip indices drawn without replacement from a seeded local generator, sorted."""
    if n < 1:
        raise LabkitError(f"n must be >= 1; got {n}")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(len(ds), size=min(n, len(ds)), replace=False))


def _deletion_rows(auc: pd.DataFrame) -> list[dict]:
    """Summary rows of the deletion/insertion areas: attribution order vs the random-order mean,
    with the verdict on the per-clip difference (`curve_auc`)."""
    return [{"check": r.curve, "over": r.over, "value": r.auc_attribution, "reference": r.auc_random,
             **{k: getattr(r, k) for k in JUDGED}} for r in auc.itertuples()]


def _randomization_rows(rand: pd.DataFrame) -> list[dict]:
    """Summary rows of the cascade: Spearman of |maps| after each step (judged after the last
    only, vs RANDOMIZATION_THRESHOLD: lower is good), then of the signed maps after the last."""
    steps = (rand[rand.step > 0].groupby(["step", "layer"], sort=True)[["spearman", "spearman_signed"]]
             .mean().reset_index())
    last = steps["step"].max()
    final = rand[rand.step == last]
    rows = [{"check": "randomization", "over": r.layer, "value": r.spearman, "reference": np.nan,
             **dict.fromkeys(JUDGED)} for r in steps.itertuples() if r.step != last]
    for check, column in (("randomization", "spearman"), ("randomization (signed)", "spearman_signed")):
        rows.append({"check": check, "over": final["layer"].iloc[0], "value": final[column].mean(),
                     "reference": RANDOMIZATION_THRESHOLD,
                     **verdict(final[column] - RANDOMIZATION_THRESHOLD, good=-1)})
    return rows


def _pointing_rows(game: pd.DataFrame) -> list[dict]:
    """Summary rows of the pointing game on correctly classified clips (all, if none is):
    frame and pixel hit rates and the evidence mass share, each against its chance level."""
    ok = game[game["correct"]] if game["correct"].any() else game
    return [{"check": "pointing", "over": over, "value": float(ok[value].mean()), "reference": float(ok[ref].mean()),
             **verdict(ok[value].astype(float) - ok[ref], good=1)}
            for over, value, ref in (("frames", "frame_hit", "frame_chance"), ("pixels", "pixel_hit", "pixel_chance"),
                                     ("mass", "mass_share", "area_share"))]


def _padded_masks(masks: list[np.ndarray], frames: int) -> np.ndarray:
    """Evidence masks (T_i, H, W) of clips of different lengths -> bool (n, frames, H, W), False beyond."""
    out = np.zeros((len(masks), frames, *masks[0].shape[1:]), bool)
    for i, m in enumerate(masks):
        out[i, :len(m)] = m
    return out


def evaluate_faithfulness(model, ds, method: str = "integrated_gradients", n: int = 16, indices=None,
                          target=None, checks=CHECKS, over=OVER, steps: int = 20, n_random: int = 20,
                          baseline: str | None = None, deletion_baseline: str = "temporal_mean", seed: int = 0,
                          memory_mb: float | None = None, **params) -> FaithfulnessReport:
    """Is `method` faithful to `model` on `ds`? Deletion/insertion, randomisation and pointing.

    Draws n clips (or takes `indices`), attributes them (target None: the predicted class;
    `baseline`, when given, for the methods that take one) and runs the chosen checks
    (`deletion_baseline`: what removed frames/tiles become, see `deletion_insertion`).
    Returns a `FaithfulnessReport` whose summary has one row per measurement: method, check,
    over, value, reference, then difference, ci_low, ci_high, verdict and passed — the per-clip
    difference from the reference with its bootstrap 95% interval, "passed" / "failed" only when
    the interval lies wholly on one side, else "inconclusive" (passed None) (deletion: AUC vs the random-order mean; randomisation:
    Spearman of |maps| after each cascade step, passed only judged after the last, vs 0.3, and
    of the signed maps after the last; pointing: hit rate and evidence mass share on correctly
    classified clips vs chance), with the detail tables of the checks run beside it. Reports
    of several methods combine with `FaithfulnessReport.concat`.
    """
    if unknown := sorted(set(checks) - set(CHECKS)):
        raise LabkitError(f"unknown check(s) {unknown}; choose from {list(CHECKS)}")
    idx = sample_indices(ds, n, seed) if indices is None else np.asarray(indices)
    clips, _, lengths = ds.batch(idx)  # (n, T, H, W, C) zero-padded to the longest, lengths (n,)
    kw = dict(classes=ds.classes, memory_mb=memory_mb, lengths=lengths, **params)
    if baseline is not None:
        kw["baseline"] = baseline
    attr = attribute(model, clips, target=target, method=method, **kw)
    tables, rows = {}, []
    if "deletion" in checks:
        tables["curves"] = deletion_insertion(model, clips, attr, over=over, steps=steps, n_random=n_random,
                                              baseline=deletion_baseline, seed=seed, memory_mb=memory_mb)
        tables["auc"] = curve_auc(tables["curves"])
        rows += _deletion_rows(tables["auc"])
    if "randomization" in checks:
        tables["randomization"] = randomization_check(model, clips, method, target=attr.target, seed=seed, **kw)
        rows += _randomization_rows(tables["randomization"])
    if "pointing" in checks and getattr(ds, "evidence_frames", None) is not None:
        masks = _padded_masks([ds.evidence_mask(int(i)) for i in idx], clips.shape[1])  # (n, T, H, W)
        tables["pointing"] = pointing_game(attr, np.asarray(ds.evidence_frames)[idx], masks,
                                           labels=np.asarray(ds.labels)[idx])
        rows += _pointing_rows(tables["pointing"])
    tables["summary"] = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS[1:]))
    for table in tables.values():
        table.insert(0, "method", method)
    over = (over,) if isinstance(over, str) else tuple(over)
    return FaithfulnessReport(
        method=method, indices=tuple(int(i) for i in idx), checks=tuple(checks),
        params={**params, "target": target, "baseline": baseline, "over": over, "steps": steps,
                "n_random": n_random, "deletion_baseline": deletion_baseline, "seed": seed},
        **tables)
