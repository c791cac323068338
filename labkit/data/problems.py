"""Bad input: `DataError` (a LabkitError whose message names the file and the fix) and `Problems`,
which either raises it at once (`on_error="raise"`) or records it for `ds.report` (`"skip"`)."""
from __future__ import annotations

import pandas as pd

from labkit.errors import LabkitError

ON_ERROR = ("raise", "skip")


class DataError(LabkitError):
    """A file or folder that cannot be used; `path` names it, the message says how to fix it."""

    def __init__(self, path, problem: str, fix: str = ""):
        self.path, self.problem, self.fix = str(path), problem, fix
        super().__init__(f"{path}: {problem}" + (f". Fix: {fix}" if fix else ""))


def os_error(path, e: OSError) -> DataError:
    """The DataError for an OSError met reading `path`: no permission is "unreadable" (not "corrupt")."""
    if isinstance(e, PermissionError):
        return DataError(path, "is unreadable (permission denied)",
                         "make it readable (e.g. chmod -R a+rX on it) or remove it")
    return DataError(path, f"cannot be read ({type(e).__name__}: {e.strerror or e})",
                     "check that the disk is mounted and the file is whole, or remove it")


class Problems:
    """Collects DataErrors: raises the first (on_error="raise") or keeps them all ("skip")."""

    def __init__(self, on_error: str = "raise"):
        if on_error not in ON_ERROR:
            raise LabkitError(f"on_error={on_error!r}; choose one of {list(ON_ERROR)}")
        self.on_error = on_error
        self.errors: list[DataError] = []

    def add(self, error: DataError) -> None:
        if self.on_error == "raise":
            raise error
        self.errors.append(error)

    def frame(self) -> pd.DataFrame:
        """The report: one row per skipped input, columns path, problem (with the fix)."""
        return pd.DataFrame([(e.path, str(e)[len(e.path) + 2:]) for e in self.errors], columns=["path", "problem"])
