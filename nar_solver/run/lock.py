"""One writer per output: an exclusive ``flock`` on a lock file that names its owner's PID.

Two processes writing one output interleave it: two trainers mix weights, state and log (issue 14);
two ``generate`` runs into one folder each report success while the folder holds one of them; two
``evaluate --resume`` runs on one ``--json-out`` both solve every remaining puzzle (issue 21). So
``train`` (the run folder), ``generate`` (the output folder), ``evaluate`` and ``tune`` (their
``--json-out``) each hold :func:`output_lock` for the whole run, and a second process on the same
output is refused with ``<output>: in use by process N``. The kernel drops a flock when its process
dies, however it dies, so a lock file left by a killed process holds no lock and the next process
takes it over; the PID written inside is only for the message. The lock file is removed when its
owner finishes.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator

from nar_solver.errors import NarError, from_os_error

#: The lock file of a training run, inside its run folder.
LOCK_FILE = ".train.lock"


def _owner(handle) -> str:
    """The PID the holder wrote, for the message ('another process' while it is still writing it)."""
    handle.seek(0)
    text = handle.read(32).strip()
    return f"process {text}" if text.isdigit() else "another process"


def _take(path: Path, output: Path):
    """Open and flock the lock file; refuse if another process holds it. Retries while the file
    it locked was removed by a finishing owner in the meantime (then it locks a deleted file)."""
    while True:
        try:
            handle = open(path, "a+", encoding="ascii")
        except OSError as err:
            raise from_os_error(err, path, "cannot create the lock file") from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _owner(handle)
            handle.close()
            raise NarError(f"in use by {owner}", output) from None
        try:
            same = os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return handle
        handle.close()  # the owner removed the file between our open and our flock: lock the new one


def lock_path(output: str | Path, folder: bool) -> Path:
    """Where the lock of ``output`` lives: inside it for a folder (``.lock``), beside it for a file
    (``.<name>.lock``)."""
    output = Path(output)
    return output / ".lock" if folder else output.with_name(f".{output.name}.lock")


@contextlib.contextmanager
def output_lock(output: str | Path, folder: bool = False, lock_file: Path | None = None) -> Iterator[Path]:
    """Hold the lock of ``output`` (a file, or a folder when ``folder``) while the block runs.

    The folder that holds the lock file is created; if this call created it and the block leaves it
    empty (a run refused or failed before writing), it is removed again, so nothing is left behind.
    ``lock_file`` overrides :func:`lock_path` (a training run keeps its historical ``.train.lock``)."""
    output = Path(output)
    path = lock_file or lock_path(output, folder)
    holder = path.parent
    created = not holder.exists()
    try:
        holder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise from_os_error(err, holder, "cannot create folder") from None
    try:
        handle = _take(path, output)
    except NarError:
        if created:
            with contextlib.suppress(OSError):
                holder.rmdir()
        raise
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # while still locked: a later process finds a fresh file, never this one
        handle.close()
        if created:  # a run that failed before writing anything leaves no empty folder behind
            with contextlib.suppress(OSError):
                holder.rmdir()


def run_lock(run_dir: str | Path):
    """The lock of a training run folder (``<run>/.train.lock``), created with the folder."""
    return output_lock(run_dir, folder=True, lock_file=Path(run_dir) / LOCK_FILE)
