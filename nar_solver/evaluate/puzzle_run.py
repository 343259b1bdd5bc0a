"""One call that evaluates a puzzle set the right way for the process it runs in (docs/solver.md,
"Evaluating").

In one process the evaluation is resumable (:mod:`nar_solver.evaluate.resumable`): the partial
results file, SIGINT / SIGTERM and ``resume``. Under torchrun it is sharded over the ranks
(:mod:`nar_solver.evaluate.sharded`), which has no partial file and cannot resume. Callers (the
``evaluate`` command, a script) need not know which.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from nar_solver.distributed import DistContext
from nar_solver.errors import NarError
from nar_solver.evaluate.accuracy import AccuracyReport, SkippedPuzzle
from nar_solver.evaluate.interrupt import Interrupted
from nar_solver.evaluate.partial import PartialLog
from nar_solver.evaluate.resumable import Outcome, evaluate_entries
from nar_solver.evaluate.sharded import evaluate_sharded
from nar_solver.solve.solver import Solver
from nar_solver.world.puzzle_set import PuzzleEntry


@dataclass
class SetEvaluation:
    """What :func:`evaluate_set` did."""

    report: AccuracyReport
    #: The stop signal that ended the run early; None when it ran to the end (always under torchrun).
    interrupted: Interrupted | None
    #: The partial results file the run kept; None without one and under torchrun.
    log: PartialLog | None


def evaluate_set(entries: Sequence[PuzzleEntry], solver: Solver, *, log: PartialLog | None = None,
                 header: dict | None = None, resume: bool = False, strict: bool = False,
                 skips: Sequence[SkippedPuzzle] = (), warn: Callable[[SkippedPuzzle], None] | None = None,
                 progress: Callable[[Outcome], None] | None = None,
                 ctx: DistContext | None = None) -> SetEvaluation:
    """Solve every entry: sharded under torchrun (every rank gets the whole report), else resumable
    with ``log``, ``header`` and ``resume``. ``skips`` are known skips reported first."""
    ctx = ctx or DistContext.from_env()
    if not ctx.enabled:
        report, interrupted = evaluate_entries(entries, solver, log=log, header=header, resume=resume,
                                               strict=strict, skips=skips, warn=warn, progress=progress)
        return SetEvaluation(report, interrupted, log)
    if resume:
        raise NarError("--resume is for one process; run it without torchrun")
    report = evaluate_sharded(entries, solver, progress=progress, ctx=ctx, strict=strict, warn=warn)
    report.skipped[:0] = skips
    return SetEvaluation(report, None, None)
