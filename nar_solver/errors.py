"""One error type for every problem a user can fix (bad file, bad puzzle, bad checkpoint, bad option).

Raised where the problem is found; the CLI turns it into a single line and an exit code in one place.
"""
from __future__ import annotations

import errno
from pathlib import Path

#: Exit codes shown by the CLI. ``USAGE`` for input the user gave us (paths, files, options),
#: ``FAILURE`` for a run that went wrong on good input (for example a NaN loss).
USAGE = 2
FAILURE = 1


class NarError(Exception):
    """A user-facing problem. ``str(err)`` is the one line the user sees."""

    exit_code = USAGE

    def __init__(self, message: str, path: str | Path | None = None):
        self.path = None if path is None else Path(path)
        super().__init__(f"{self.path}: {message}" if self.path is not None else message)


class PuzzleError(NarError):
    """A puzzle file or folder that cannot be read or is inconsistent."""


class CheckpointError(NarError):
    """A checkpoint folder that is missing, corrupt, or of another architecture."""


class RunFailure(NarError):
    """Good input, failed run (non-finite loss, interrupted distributed job)."""

    exit_code = FAILURE


#: errno values that mean the path the user gave cannot be used (their input), not a failed run.
_PATH_ERRNOS = frozenset(getattr(errno, name) for name in (
    "EACCES", "EPERM", "ENOENT", "ENOTDIR", "EISDIR", "EEXIST", "EROFS", "ENAMETOOLONG", "ELOOP", "ENOTEMPTY")
    if hasattr(errno, name))


def from_os_error(err: OSError, path: str | Path | None = None, action: str | None = None) -> NarError:
    """One line for a file system failure: ``<path>: cannot write (Permission denied)``.

    A path the user cannot use (permissions, a file where a folder should be, a read-only disk) is
    their input: :class:`NarError`, exit code 2. Anything else (a full disk, an I/O error) is a run
    that failed on good input: :class:`RunFailure`, exit code 1.
    """
    where = path if path is not None else err.filename
    reason = err.strerror or " ".join(str(err).split()) or err.__class__.__name__
    message = f"{action} ({reason})" if action else reason
    kind = NarError if err.errno in _PATH_ERRNOS else RunFailure
    return kind(message, where)
