"""labkit.lessons: each lesson of the lab as a function that runs its experiment over seeds
(through `train.sweep`, reusing finished runs) and returns a `LessonResult`: a table, a summary
with confidence intervals, and the claims the measurement supports — or does not.

    result = lessons.memory_span(quick=True)     # LessonResult
    result.summary; result.claims; result.markdown()
    lessons.check(quick=True)                    # every lesson's claims, one row each
"""
from __future__ import annotations

import functools

import pandas as pd

from labkit import train
from labkit.errors import UnknownNameError

from .claims import Claim
from .exploding import exploding_gradients
from .features import frame_encoders
from .memory import memory_span, vanishing_gradients
from .optimizing import optimizers
from .order import order_matters
from .result import LessonResult, lessons_root
from .scarce_data import learning_curves
from .self_supervised import pretraining
from .smaller import compression

def _one_bar(name: str, lesson):
    """The lesson with one progress bar (runs, ETA) over all of its sweeps and pretraining."""
    @functools.wraps(lesson)
    def run_lesson(quick: bool = False, root=None, progress: bool = True) -> LessonResult:
        with train.one_bar(name.replace("_", " "), progress=progress):
            return lesson(quick=quick, root=root, progress=progress)
    return run_lesson


_LESSONS = {"order_matters": order_matters, "memory_span": memory_span, "vanishing_gradients": vanishing_gradients,
           "exploding_gradients": exploding_gradients, "optimizers": optimizers, "learning_curves": learning_curves,
           "pretraining": pretraining, "frame_encoders": frame_encoders, "compression": compression}
LESSONS = {name: _one_bar(name, lesson) for name, lesson in _LESSONS.items()}
(order_matters, memory_span, vanishing_gradients, exploding_gradients, optimizers, learning_curves, pretraining,
 frame_encoders, compression) = (LESSONS[n] for n in _LESSONS)


def run(names=None, quick: bool = False, root=None, progress: bool = True) -> list[LessonResult]:
    """Run the lessons named (all by default), in order; finished runs under `root` are reused."""
    names = list(LESSONS) if names is None else list(names)
    unknown = sorted(set(names) - set(LESSONS))
    if unknown:
        raise UnknownNameError(f"unknown lesson(s) {unknown}; choose from {', '.join(LESSONS)}")
    return [LESSONS[name](quick=quick, root=root, progress=progress) for name in names]


def check(names=None, quick: bool = False, root=None, progress: bool = True) -> pd.DataFrame:
    """Every claim of the lessons run, one row each (lesson, claim, supported, measured, CI, ...)."""
    return pd.concat([r.claims_table() for r in run(names, quick, root, progress)], ignore_index=True)


__all__ = ["Claim", "LESSONS", "LessonResult", "check", "compression", "exploding_gradients", "frame_encoders",
           "learning_curves", "lessons_root", "memory_span", "optimizers", "order_matters", "pretraining", "run",
           "vanishing_gradients"]
