"""What `evaluate` and `tune` share: reading the puzzle set of their options, the skip warning, and
the partial results file that --resume continues (docs/solver.md, "Evaluating")."""
from __future__ import annotations

from pathlib import Path

import click

from nar_solver.errors import NarError


def load_set(path: Path | None, problems: Path | None, images: Path | None, limit: int | None):
    """The entries of PATH (any layout) or of --problems/--images (the few-shot-nar layout), each
    read on its own when solved (nar_solver.world.puzzle_set)."""
    from nar_solver.world.puzzle_set import fewshot_set, puzzle_set

    if (problems is None) != (images is None):
        raise NarError("--problems and --images go together (the problems JSON and its image folder)")
    if problems is not None:
        if path is not None:
            raise NarError("give either PATH or --problems/--images, not both")
        return fewshot_set(problems, images, limit)
    if path is None:
        raise NarError("give a puzzle PATH, or --problems FILE --images DIR")
    return puzzle_set(path, limit)


def warn_skip(skip) -> None:
    """The one-line warning of a skipped puzzle, on stderr."""
    click.echo(f"warning: skipped puzzle {skip.key}: {skip.reason}", err=True)


def partial_log(json_out: Path | None, resume: bool):
    """The partial results file beside --json-out (None without it), checked against --resume."""
    from nar_solver.evaluate.partial import PartialLog, partial_path

    if json_out is None:
        if resume:
            raise NarError("--resume needs --json-out FILE: the results file of the run to continue")
        return None
    log = PartialLog(partial_path(json_out))
    if log.exists() and not resume:
        raise NarError("holds the results of an interrupted run; continue it with --resume, or delete it to "
                       "start afresh", log.path)
    return log


def run_header(command: str, path: Path | None, problems: Path | None, settings: dict) -> dict:
    """What a partial file must match to be resumed: the command, the puzzle set and the settings."""
    return {"command": command, "set": str(Path(path or problems).resolve()), "settings": settings}
