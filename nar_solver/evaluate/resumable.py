"""An evaluation that keeps its results: unreadable puzzles skipped, results streamed, signals and
``--resume`` (docs/solver.md, "Evaluating").

- Each puzzle is read on its own (:mod:`nar_solver.world.puzzle_set`). One that cannot be read or
  solved (a :class:`PuzzleError`) becomes a :class:`SkippedPuzzle` with its one-line reason and a
  warning; with ``strict`` the error stops the run instead.
- Every finished puzzle is appended to the partial file (:mod:`nar_solver.evaluate.partial`)
  before the next one starts.
- SIGINT / SIGTERM end the loop (:mod:`nar_solver.evaluate.interrupt`); the report of what is done
  comes back with ``complete`` False, and the interruption beside it.
- With ``resume``, puzzles already in the partial file are taken from it, not solved again. Every
  solver seeds itself per puzzle from the settings' seed (and the puzzle's id), never from the
  order of the solves, so a resumed run gives the numbers of an uninterrupted one.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Sequence

from nar_solver.errors import NarError, PuzzleError
from nar_solver.evaluate.accuracy import AccuracyReport, PuzzleResult, SkippedPuzzle, solve_one
from nar_solver.evaluate.interrupt import Interrupted, interruptible
from nar_solver.evaluate.partial import PartialLog
from nar_solver.io import atomic_write_json
from nar_solver.solve.solver import Solver
from nar_solver.world.puzzle_set import PuzzleEntry

Outcome = PuzzleResult | SkippedPuzzle
#: Why a folder of images without puzzle.json is skipped.
INCOMPLETE_REASON = "holds PNGs but no puzzle.json (a puzzle folder generate did not finish)"


def incomplete_skips(folders: Iterable[Path], strict: bool = False) -> list[SkippedPuzzle]:
    """Skips for folders that look like unfinished puzzles (with ``strict``: the first is an error)."""
    skips = [SkippedPuzzle(Path(f).name, str(f), f"{f}: {INCOMPLETE_REASON}") for f in folders]
    if strict and skips:
        raise PuzzleError(f"{INCOMPLETE_REASON} (refused: --stop-on-unreadable)", skips[0].source)
    return skips


def attempt(entry: PuzzleEntry, solver: Solver, strict: bool = False) -> Outcome:
    """Read and solve one puzzle; a PuzzleError is a skip (raised with ``strict``)."""
    try:
        return solve_one(entry.read(), solver)
    except PuzzleError as err:
        if strict:
            raise
        return SkippedPuzzle(entry.key, str(entry.source), str(err))


def read_all(entries: Sequence[PuzzleEntry], strict: bool = False,
             warn: Callable[[SkippedPuzzle], None] | None = None) -> tuple[list, list[SkippedPuzzle]]:
    """Every puzzle that can be read, and a skip for each one that cannot (``tune`` reads them all
    before its sweep)."""
    puzzles, skipped = [], []
    for entry in entries:
        try:
            puzzles.append(entry.read())
        except PuzzleError as err:
            if strict:
                raise
            skipped.append(SkippedPuzzle(entry.key, str(entry.source), str(err)))
            if warn is not None:
                warn(skipped[-1])
    return puzzles, skipped


def report_of(solver: str, outcomes: Iterable[Outcome], complete: bool = True) -> AccuracyReport:
    """The report of results and skips, in the set's order."""
    outcomes = list(outcomes)
    return AccuracyReport(solver, [o for o in outcomes if isinstance(o, PuzzleResult)],
                          skipped=[o for o in outcomes if isinstance(o, SkippedPuzzle)], complete=complete)


def record_of(key: str, outcome: Outcome) -> dict:
    """One line of the partial file."""
    if isinstance(outcome, PuzzleResult):
        return {"kind": "result", "key": key, "row": outcome.to_json()}
    return {"kind": "skipped", "key": key, "row": outcome.to_json()}


def finished_results(records: Iterable[dict]) -> dict[str, PuzzleResult]:
    """The solved puzzles of a partial file, by entry key (skips are tried again on resume)."""
    return {str(r["key"]): PuzzleResult.from_json(r["row"]) for r in records if r.get("kind") == "result"}


def check_some_read(report: AccuracyReport) -> None:
    """A finished run that could read no puzzle at all is an error, not a report of nothing."""
    if report.complete and not report.results and report.skipped:
        raise PuzzleError(f"none of the {len(report.skipped)} puzzles could be read; the first: "
                          f"{report.skipped[0].reason}")


def evaluate_entries(entries: Sequence[PuzzleEntry], solver: Solver, *, log: PartialLog | None = None,
                     header: dict | None = None, resume: bool = False, strict: bool = False,
                     skips: Sequence[SkippedPuzzle] = (),
                     warn: Callable[[SkippedPuzzle], None] | None = None,
                     progress: Callable[[Outcome], None] | None = None,
                     ) -> tuple[AccuracyReport, Interrupted | None]:
    """Solve every entry (see the module docstring); ``skips`` are known skips to report first
    (unfinished folders). Returns the report and the interruption (None when it ran to the end)."""
    if resume and log is None:
        raise NarError("--resume needs the partial results file of --json-out")
    done: dict[str, PuzzleResult] = {}
    if log is not None:
        if resume:
            done = finished_results(log.resume(header or {}))
        else:
            log.start(header or {})
    outcomes: list[Outcome] = list(skips)
    interrupted = None
    with interruptible() as guard:
        try:
            for entry in entries:
                outcome = done.get(entry.key)
                if outcome is None:
                    outcome = attempt(entry, solver, strict)
                    with guard.critical():
                        if log is not None:
                            log.append(record_of(entry.key, outcome))
                        outcomes.append(outcome)
                else:
                    outcomes.append(outcome)
                if isinstance(outcome, SkippedPuzzle) and warn is not None:
                    warn(outcome)
                if progress is not None:
                    progress(outcome)
        except Interrupted as err:
            interrupted = err
    return report_of(solver.name, outcomes, complete=interrupted is None), interrupted


def conclude(report: AccuracyReport, interrupted: Interrupted | None, log: PartialLog | None,
             json_out: Path | None) -> None:
    """Write the report to ``json_out`` (atomically) and settle the partial file: removed after a
    finished run, kept after an interrupted one for ``--resume``. A finished run that could read no
    puzzle is an error instead (and leaves no partial file to trip the next run)."""
    if interrupted is None:
        try:
            check_some_read(report)
        except PuzzleError:
            if log is not None:
                log.remove()
            raise
    if json_out is not None:
        atomic_write_json(json_out, report.to_json())
    if interrupted is None and log is not None:
        log.remove()
