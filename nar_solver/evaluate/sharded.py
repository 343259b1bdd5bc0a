"""`evaluate` under torchrun: each rank solves its share of the puzzles, every rank gets one report.

Sharding is strided (rank r of W solves puzzles r, r + W, r + 2W, ...), so every rank gets puzzles
of every kind and the counts differ by at most one. The results travel as small Python objects
over a gloo process group (on CPU and GPU alike: only results are exchanged, never tensors) and
are put back in the puzzles' order, so the report equals the one-process report except for the
timings: each solver is seeded per puzzle, so which rank solves a puzzle does not change its answer.

Each rank reads only its own puzzles; one that cannot be read is skipped on that rank (with a
warning there) and reported as skipped, as in one process. The partial file, signals and
``--resume`` of :mod:`nar_solver.evaluate.resumable` are single-process only: under torchrun a
stop signal ends every rank (torchrun passes it on) and no report is written.

If a rank fails, every rank learns it at the gather: the failing rank re-raises its own error and
the others raise a RunFailure naming it, instead of waiting for a partner that will never answer.
Without torchrun (no WORLD_SIZE > 1 in the environment) this is plain :func:`evaluate`.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Callable, Iterable

import torch
import torch.distributed as dist

from nar_solver.device import auto_threads, resolve_device
from nar_solver.distributed import DistContext
from nar_solver.errors import RunFailure
from nar_solver.evaluate.accuracy import AccuracyReport, SkippedPuzzle
from nar_solver.evaluate.resumable import Outcome, attempt, report_of
from nar_solver.solve.solver import Solver
from nar_solver.world.puzzle import Puzzle
from nar_solver.world.puzzle_set import PuzzleEntry

#: How long a rank waits at the gather for the slowest rank (shards of GA solves can take hours).
GATHER_TIMEOUT = timedelta(hours=24)


def shard_indices(n: int, ctx: DistContext | None = None) -> list[int]:
    """The puzzle indices this rank solves, out of ``n`` (all of them in one process)."""
    ctx = ctx or DistContext.from_env()
    return list(range(ctx.rank, n, ctx.world_size))


def rank_device(device: str, ctx: DistContext | None = None) -> str:
    """The device this rank should solve on. Under torchrun, plain CUDA (``cuda`` or ``auto`` on a
    GPU machine) means GPU LOCAL_RANK, wrapping around when there are more ranks than GPUs (solving
    is inference: ranks may share a GPU); a named GPU (``cuda:1``) and the CPU are kept."""
    ctx = ctx or DistContext.from_env()
    if not ctx.enabled:
        return device
    resolved = resolve_device(device)
    if resolved.type != "cuda" or resolved.index is not None:
        return device
    return f"cuda:{ctx.local_rank % torch.cuda.device_count()}"


def as_entries(items: Iterable[Puzzle | PuzzleEntry]) -> list[PuzzleEntry]:
    """Entries as they are, puzzles in memory wrapped as entries (keyed by position)."""
    return [item if isinstance(item, PuzzleEntry) else PuzzleEntry.of(item, i) for i, item in enumerate(items)]


def _solve_all(entries: list[PuzzleEntry], solver: Solver, strict: bool,
               progress: Callable[[Outcome], None] | None,
               warn: Callable[[SkippedPuzzle], None] | None) -> list[Outcome]:
    outcomes = []
    for entry in entries:
        outcomes.append(attempt(entry, solver, strict))
        if isinstance(outcomes[-1], SkippedPuzzle) and warn is not None:
            warn(outcomes[-1])
        if progress is not None:
            progress(outcomes[-1])
    return outcomes


def evaluate_sharded(puzzles: Iterable[Puzzle | PuzzleEntry], solver: Solver,
                     progress: Callable[[Outcome], None] | None = None,
                     ctx: DistContext | None = None, strict: bool = False,
                     warn: Callable[[SkippedPuzzle], None] | None = None) -> AccuracyReport:
    """Every puzzle (or entry) solved, split over the ranks of a torchrun job; returns the whole
    set's report on every rank. Unreadable entries are skipped (``strict``: an error), ``warn``
    is told of each skip and ``progress`` of each outcome on the rank that met it."""
    ctx = ctx or DistContext.from_env()
    entries = as_entries(puzzles)
    if not ctx.enabled:
        return report_of(solver.name, _solve_all(entries, solver, strict, progress, warn))

    if torch.get_num_threads() > 1:
        torch.set_num_threads(auto_threads(ctx.world_size))  # W ranks share the cores
    with ctx.process_group(timeout=GATHER_TIMEOUT):  # gloo: only results travel, never tensors
        indices = shard_indices(len(entries), ctx)
        failure: BaseException | None = None
        try:
            local = _solve_all([entries[i] for i in indices], solver, strict, progress, warn)
        except Exception as err:  # noqa: BLE001 - re-raised below, after the other ranks are told
            local, failure = [], err
        message = None if failure is None else " ".join(str(failure).split()) or failure.__class__.__name__
        gathered: list = [None] * ctx.world_size
        dist.all_gather_object(gathered, (indices, local, message))
    if failure is not None:
        raise failure
    for rank, (_, _, message) in enumerate(gathered):
        if message is not None:
            raise RunFailure(f"evaluate rank {rank} of {ctx.world_size} failed: {message}")
    outcomes: list[Outcome | None] = [None] * len(entries)
    for indices, local, _ in gathered:
        for i, outcome in zip(indices, local):
            outcomes[i] = outcome
    missing = [i for i, r in enumerate(outcomes) if r is None]
    if missing:  # pragma: no cover - every index belongs to exactly one rank
        raise RunFailure(f"no result gathered for puzzle(s) {missing[:5]}")
    return report_of(solver.name, outcomes)  # type: ignore[arg-type]
