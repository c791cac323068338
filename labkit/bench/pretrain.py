"""Self-supervised pretraining's gain: with few labelled clips per class and many unlabelled ones,
test top-1 after pretraining (order verification) and fine-tuning against the same model trained
from scratch, mean over seeds (its target: the lesson's, a mean gain of at least 0.10 with the
95% interval of the gain above 0); the lesson `pretraining` (quick settings) is the experiment.

Quick mode runs the same pipeline on a handful of tiny clips, so it checks that the section works
in seconds; its accuracies mean nothing and carry no target.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from labkit.lessons import self_supervised
from labkit.runs import summarize

FULL = self_supervised.QUICK  # 1,000 unlabelled clips, 5 labelled per class, 3 seeds
QUICK = dict(FULL, seeds=(0,), unlabelled=24, pretext_epochs=1, fine_tune_epochs=1, frames=4, size=16, per_class=1,
             pool=16, test_n=16)


def rows(quick: bool = False) -> list[dict]:
    p = QUICK if quick else FULL
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as root:
        table, _ = self_supervised.experiment(self_supervised.synthetic_sources(p), p, Path(root), progress=False)
    seconds = time.perf_counter() - start
    acc = summarize(table, by="start", metric="test_accuracy").set_index("start")
    claim = self_supervised.gain("", *(table[table.start == s]["test_accuracy"].to_numpy()
                                       for s in ("pretrained", "scratch")))
    gain = claim.measured
    setting = (f"{p['task']} {p['frames']}x{p['size']}x{p['size']}, {p['per_class']} labelled clips per class, "
               f"{p['unlabelled']:,} unlabelled, {len(p['seeds'])} seeds")
    ok = None if quick else claim.supported
    out = [{"name": "pretraining gain: pretrained + fine-tuned minus scratch", "value": round(float(gain), 3),
            "unit": "top-1", "target": None if quick else f"mean >= {self_supervised.MARGIN}, 95% CI above 0",
            "ok": ok, "note": f"95% CI {claim.ci[0]:.3f}..{claim.ci[1]:.3f}; {setting}; {seconds:.0f} s for both arms"}]
    for start_ in ("pretrained", "scratch"):
        row = acc.loc[start_]
        out.append({"name": f"pretraining: {start_} test top-1", "value": round(float(row["mean"]), 3), "unit": "top-1",
                    "note": f"95% CI {row['ci_low']:.3f}..{row['ci_high']:.3f}, n={int(row['n'])}; {setting}"})
    out.append({"name": "pretraining: seconds (pretext, fine-tuning and scratch runs)", "value": round(seconds, 1),
                "unit": "s", "note": setting})
    return out
