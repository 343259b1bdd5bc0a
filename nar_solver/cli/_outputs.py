"""Where commands write, and the rules every output obeys (README.md, "Failure modes").

When the user names no output it goes to ``runs/<command>-<name>/`` under the current folder,
never into a model's run folder (the shipped models under checkpoints/ stay as they were
committed) and never loose in the current folder. Whatever the user names, :func:`check_outputs`
refuses, before any work, an output that is an input, lies inside an input folder or a shipped
folder, or cannot be written; :func:`stop_cleanly` makes Ctrl-C leave no half set of files."""
from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Iterable, Iterator

import click

from nar_solver.errors import NarError
from nar_solver.io import check_folder_writable, check_writable

#: The folder that collects every command's default outputs.
RUNS = Path("runs")


def output_name(source: str | Path) -> str:
    """A folder-name-safe name for ``source``: its last path part (``checkpoints/objects`` ->
    ``objects``; a file loses its suffix)."""
    path = Path(source)
    name = path.stem if path.suffix and not path.is_dir() else path.name
    if not name or name in (".", ".."):
        name = Path.cwd().name if Path(source).resolve() == Path.cwd() else path.resolve().name
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) or "output"


def default_folder(command: str, source: str | Path) -> Path:
    """``runs/<command>-<name of source>``."""
    return RUNS / f"{command}-{output_name(source)}"


def _resolved(path: str | Path) -> Path:
    """``path`` with every link followed (it need not exist); a name no file system accepts (a NUL
    byte) or a link loop is a one-line error naming it."""
    try:
        return Path(path).expanduser().resolve()
    except (OSError, RuntimeError, ValueError) as err:
        reason = "a link loop" if isinstance(err, RuntimeError) or getattr(err, "errno", None) == 40 else \
            " ".join(str(err).split())
        raise NarError(f"cannot use this path ({reason})", str(path).replace("\x00", "\\0")) from None


def protected_folders() -> list[Path]:
    """Folders no command writes into: the shipped models, the installed package, and the source
    checkout's shipped puzzle sets (the README's examples read them)."""
    from nar_solver.run.shipped import shipped_models

    package = Path(__file__).resolve().parents[1]
    folders = [shipped_models(), package]
    if (package.parent / "setup.py").is_file():  # a source checkout: its puzzles/ ship with it
        folders.append(package.parent / "puzzles")
    return [folder.resolve() for folder in folders]


def check_outputs(outputs: Iterable[str | Path | None], inputs: Iterable[str | Path | None] = (),
                  folders: Iterable[str | Path | None] = ()) -> None:
    """The one rule of every command's outputs, checked before any work starts (issue 21).

    An output (a file in ``outputs``, a folder in ``folders``) may never be one of the command's
    ``inputs``, nor lie inside an input folder, nor inside a shipped folder
    (:func:`protected_folders`); links are followed first, so a link cannot smuggle one in. Then
    each output must be writable where it stands (:func:`nar_solver.io.check_writable`,
    :func:`nar_solver.io.check_folder_writable`), so a long run never ends on an unwritable path."""
    sources = [(Path(i), _resolved(i)) for i in inputs if i is not None]
    protected = protected_folders()
    checks = [(Path(f), True) for f in folders if f is not None] + [(Path(o), False) for o in outputs if o is not None]
    for given, is_folder in checks:
        target = _resolved(given)
        for name, source in sources:
            if target == source:
                raise NarError("is also an input of this command (it would be overwritten); write elsewhere", given)
            if target.is_relative_to(source) and source.is_dir():
                raise NarError(f"lies inside the input folder {name}; write outside it", given)
        for folder in protected:
            if target == folder or target.is_relative_to(folder):
                raise NarError(f"lies inside the shipped folder {folder}, which is never written; write elsewhere",
                               given)
        if is_folder:
            check_folder_writable(given)
        else:
            check_writable(given)


@contextlib.contextmanager
def stop_cleanly(outputs: Iterable[Path], what: str) -> Iterator[None]:
    """Run the block with SIGINT and SIGTERM turned into a clean stop (:mod:`nar_solver.evaluate.interrupt`):
    the files of ``outputs`` this run wrote are removed (a half set of figures would pass for a
    whole one), one line says so on stderr, and the command exits 130 / 143 like evaluate and tune."""
    from nar_solver.evaluate.interrupt import Interrupted, interruptible

    outputs = list(outputs)
    before = {path: _stamp(path) for path in outputs}
    try:
        with interruptible():
            yield
    except Interrupted as stop:
        removed = []
        for path in outputs:
            stamp = _stamp(path)
            if stamp is not None and stamp != before[path]:
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed.append(path.name)
        tail = f"; removed the partial {', '.join(removed)}" if removed else "; nothing was written"
        click.echo(f"warning: {stop}: {what} stopped{tail}", err=True)
        click.get_current_context().exit(stop.exit_code)


def _stamp(path: Path) -> tuple[int, int] | None:
    """What tells a file rewritten since (inode and modification time), or None when absent."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns
