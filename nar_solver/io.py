"""Atomic file writes: a crash, a full disk or Ctrl-C mid-write never leaves a half-written file.

Every file a command writes (JSON reports, PNG figures, GIF animations, safetensors weights, training
state, rewritten logs, generated puzzles) goes through :func:`atomic_write_bytes`: the new content is
written to a temporary file beside the target, synced, then renamed over it, so the target is either
the old file or the whole new one, never a truncated mix. Appended logs (``losses.jsonl``, an
evaluation's ``.partial.jsonl``) are the one exception: their readers skip a row torn mid-append.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable

from nar_solver.errors import NarError, from_os_error

_UMASK = os.umask(0o022)  # read the process umask once (setting it is the only way to read it) ...
os.umask(_UMASK)  # ... and put it back


def _nearest_folder(folder: Path, writable: bool) -> Path:
    """The nearest of ``folder`` and its parents that exists; a one-line NarError when it is a file
    (or, with ``writable``, a folder this process cannot write into)."""
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path(folder.anchor or "."))
    tail = "" if existing == folder else f", so {folder} cannot be created"
    if not existing.is_dir():
        raise NarError(f"is a file, not a folder{tail}", existing)
    if writable and not os.access(existing, os.W_OK | os.X_OK):
        raise NarError(f"cannot write here (permission denied){tail}", existing)
    return existing


def make_folder(folder: str | Path) -> Path:
    """``mkdir -p`` whose failures are one line: the ancestor that is a file, or the OS's reason."""
    folder = Path(folder)
    _nearest_folder(folder, writable=False)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise from_os_error(err, folder, "cannot create folder") from None
    return folder


def check_writable(path: str | Path) -> Path:
    """Fail now, not after a long run, if the file ``path`` could not be written later: it is a
    folder, a file stands where a folder must be, or the nearest existing folder is not writable."""
    path = Path(path)
    if path.is_dir():
        raise NarError("is a folder; give a file name", path)
    existing = next((p for p in path.parents if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise NarError(f"is a file, not a folder, so {path} cannot be written", existing)
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise NarError(f"cannot write here (permission denied), so {path} cannot be written", existing)
    return path


def check_folder_writable(folder: str | Path) -> Path:
    """Fail now, not after a long run, if files could not be written into ``folder`` later: it is
    a file, a file stands where one of its parents must be, or the nearest existing one (itself or
    a parent) is not writable."""
    folder = Path(folder)
    _nearest_folder(folder, writable=True)
    return folder


def atomic_write_bytes(path: str | Path, data: bytes, sync: bool = True) -> None:
    """Write to a temporary file beside ``path``, fsync, then rename over it.

    ``sync=False`` skips the fsync for many small files that can be made again (generated puzzle
    images: an fsync each made ``generate -n 200`` three times slower); the rename still means a
    failed or interrupted write never leaves a torn file.

    A file system failure (no permission, a file where a folder should be, a full disk) raises
    NarError / RunFailure naming ``path``, never a bare OSError."""
    path = Path(path)
    if path.is_dir():
        raise NarError("is a folder; give a file name", path)
    make_folder(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise from_os_error(err, path, "cannot write") from None
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual permissions
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise from_os_error(err, path, "cannot write") from None
        raise


def atomic_write_with(path: str | Path, write: Callable[[BinaryIO], None]) -> None:
    """Atomically write what ``write`` puts into a binary buffer (a figure's ``savefig``, a GIF
    encoder): the whole file is made in memory first, so a failing encoder leaves the old file."""
    buffer = io.BytesIO()
    write(buffer)
    atomic_write_bytes(path, buffer.getvalue())


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")
