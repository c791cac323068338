"""One progress bar for a cell that trains several models.

    with train.one_bar("memory span"):     # every sweep and pretrain inside ticks this one bar
        ...

Inside `one_bar`, a sweep adds its runs to the bar's total and ticks it once per run (finished
runs it skips included) instead of drawing a bar of its own, and `pretrain` counts as one run;
the ETA is tqdm's, over every run registered so far. Outside one, each sweep draws its own bar.
"""
from __future__ import annotations

import contextlib
import contextvars

from tqdm.auto import tqdm

_BAR: contextvars.ContextVar = contextvars.ContextVar("labkit_one_bar", default=None)


@contextlib.contextmanager
def one_bar(desc: str, total: int = 0, progress: bool = True):
    """A bar counting runs (`total`: those known at the start; sweeps add theirs). Nested: the
    outer bar counts, and this one yields it."""
    outer = _BAR.get()
    if outer is not None:
        yield outer
        return
    bar = tqdm(total=total, desc=desc, unit="run", disable=not progress)
    token = _BAR.set(bar)
    try:
        yield bar
    finally:
        _BAR.reset(token)
        bar.close()


def runs_bar(n: int, desc: str, progress: bool):
    """(bar, owned): the enclosing `one_bar` with n more runs in its total, or a new bar of n runs
    (owned: the caller closes it)."""
    outer = _BAR.get()
    if outer is None:
        return tqdm(total=n, desc=desc, unit="run", disable=not progress), True
    outer.total = (outer.total or 0) + n
    widget = getattr(outer, "container", None)
    if widget is not None:  # tqdm.notebook drew its progress widget for the old total (0: a stub)
        bar = widget.children[1]
        bar.max, bar.bar_style = outer.total, ""
        bar.layout.width = None
    outer.refresh()
    return outer, False


@contextlib.contextmanager
def counted_run(desc: str):
    """One run of the enclosing `one_bar` (yields True; ticks it when the run ends), or nothing
    (yields False) outside one."""
    outer = _BAR.get()
    if outer is None:
        yield False
        return
    bar, _ = runs_bar(1, desc, True)
    bar.set_postfix_str(desc)
    try:
        yield True
    finally:
        bar.update(1)
