"""Send what a background thread prints to one Output widget, and nothing else there.

In Jupyter, a thread's `print` (or a warning) lands in whichever cell happens to be running.
`routed_to(out)` installs, once, a stdout/stderr proxy that looks up the writing thread: writes
from a registered thread go to its Output widget, every other write goes where it always went.
"""
from __future__ import annotations

import contextlib
import io
import sys
import threading

_ROUTES: dict[int, object] = {}  # thread ident -> ipywidgets.Output
_LOCK = threading.Lock()


class _Router(io.TextIOBase):
    """A sys.stdout/sys.stderr stand-in that forwards by thread."""

    def __init__(self, base, kind: str):
        self.base, self.kind = base, kind

    def write(self, s: str) -> int:
        out = _ROUTES.get(threading.get_ident())
        if out is None:
            return self.base.write(s)
        if s:
            (out.append_stdout if self.kind == "stdout" else out.append_stderr)(s)
        return len(s)

    def flush(self) -> None:
        self.base.flush()

    def __getattr__(self, name):  # encoding, isatty, fileno ... of the real stream
        return getattr(self.base, name)


@contextlib.contextmanager
def routed_to(out):
    """Within this block, the *current thread's* stdout/stderr go to `out` (an ipywidgets.Output)."""
    ident = threading.get_ident()
    with _LOCK:
        for kind in ("stdout", "stderr"):
            if not isinstance(getattr(sys, kind), _Router):
                setattr(sys, kind, _Router(getattr(sys, kind), kind))
        _ROUTES[ident] = out
    try:
        yield out
    finally:
        with _LOCK:
            _ROUTES.pop(ident, None)
            if not _ROUTES:  # last one out puts the real streams back (if nobody replaced ours)
                for kind in ("stdout", "stderr"):
                    stream = getattr(sys, kind)
                    if isinstance(stream, _Router):
                        setattr(sys, kind, stream.base)
