"""The lab's one family of errors for a user's mistakes: each says what is wrong, where (a file, a
folder or an argument) and the fix. `labkit` on the command line prints one as a single line and
exits 2; any other exception is a bug in labkit and shows its traceback.

Each class also derives from the built-in error Python code would expect (ValueError, or
FileNotFoundError for a missing path), so `except ValueError` keeps working.
"""
from __future__ import annotations


class LabkitError(ValueError):
    """A user's mistake. The message names what is wrong, where, and the fix."""


class MissingPathError(LabkitError, FileNotFoundError):
    """A file or folder the user named does not exist (or is not what it should be)."""


class SettingError(LabkitError, TypeError):
    """A setting with an unknown name or the wrong type (e.g. TrainConfig(lrr=1))."""


class UnknownNameError(LabkitError, KeyError):
    """An unknown name picked from a fixed list (a preset, a task, a method)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class RunError(LabkitError):
    """A run folder that cannot be written or read: busy, damaged, or holding another run."""
