"""One writer per run folder: an exclusive ``flock`` on a lock file that names its owner's PID.

Two trainers writing one run folder interleave weights, state and log (issue 14). ``train`` holds
:func:`run_lock` for the whole run; a second trainer on the same folder is refused with
``<run>: in use by process N``. The kernel drops a flock when its process dies, however it dies,
so a lock file left by a killed process holds no lock and the next trainer takes it over; the PID
written inside is only for the message. The lock file is removed when its owner finishes.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator

from nar_solver.errors import NarError, from_os_error

LOCK_FILE = ".train.lock"


def _owner(handle) -> str:
    """The PID the holder wrote, for the message ('another process' while it is still writing it)."""
    handle.seek(0)
    text = handle.read(32).strip()
    return f"process {text}" if text.isdigit() else "another process"


def _take(path: Path):
    """Open and flock the lock file; refuse if another process holds it. Retries while the file
    it locked was removed by a finishing owner in the meantime (then it locks a deleted file)."""
    while True:
        try:
            handle = open(path, "a+", encoding="ascii")
        except OSError as err:
            raise from_os_error(err, path, "cannot create the run lock") from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _owner(handle)
            handle.close()
            raise NarError(f"in use by {owner}", path.parent) from None
        try:
            same = os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return handle
        handle.close()  # the owner removed the file between our open and our flock: lock the new one


@contextlib.contextmanager
def run_lock(run_dir: str | Path) -> Iterator[Path]:
    """Hold the run folder's lock (creating the folder) while the block runs; its PID inside."""
    run_dir = Path(run_dir)
    created = not run_dir.exists()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise from_os_error(err, run_dir, "cannot create folder") from None
    path = run_dir / LOCK_FILE
    try:
        handle = _take(path)
    except NarError:
        if created:
            with contextlib.suppress(OSError):
                run_dir.rmdir()
        raise
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # while still locked: a later trainer finds a fresh file, never this one
        handle.close()
        if created:  # a run that failed before writing anything leaves no empty folder behind
            with contextlib.suppress(OSError):
                run_dir.rmdir()
