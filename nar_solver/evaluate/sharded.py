"""`evaluate` under torchrun: each rank solves its share of the puzzles, every rank gets one report.

Sharding is strided (rank r of W solves puzzles r, r + W, r + 2W, ...), so every rank gets puzzles
of every kind and the counts differ by at most one. The results travel as small Python objects
over a gloo process group (on CPU and GPU alike: only results are exchanged, never tensors) and
are put back in the puzzles' order, so the report equals the one-process report except for the
timings: each solver is seeded per puzzle, so which rank solves a puzzle does not change its answer.

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
from nar_solver.evaluate.accuracy import AccuracyReport, PuzzleResult, evaluate
from nar_solver.solve.solver import Solver
from nar_solver.world.puzzle import Puzzle

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


def evaluate_sharded(puzzles: Iterable[Puzzle], solver: Solver,
                     progress: Callable[[PuzzleResult], None] | None = None,
                     ctx: DistContext | None = None) -> AccuracyReport:
    """:func:`evaluate` split over the ranks of a torchrun job; returns the whole set's report on
    every rank. ``progress`` is called after each puzzle this rank solves."""
    ctx = ctx or DistContext.from_env()
    puzzles = list(puzzles)
    if not ctx.enabled:
        return evaluate(puzzles, solver, progress)

    if torch.get_num_threads() > 1:
        torch.set_num_threads(auto_threads(ctx.world_size))  # W ranks share the cores
    with ctx.process_group(timeout=GATHER_TIMEOUT):  # gloo: only results travel, never tensors
        indices = shard_indices(len(puzzles), ctx)
        failure: BaseException | None = None
        try:
            local = evaluate([puzzles[i] for i in indices], solver, progress).results
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
    results: list[PuzzleResult | None] = [None] * len(puzzles)
    for indices, local, _ in gathered:
        for i, result in zip(indices, local):
            results[i] = result
    missing = [i for i, r in enumerate(results) if r is None]
    if missing:  # pragma: no cover - every index belongs to exactly one rank
        raise RunFailure(f"no result gathered for puzzle(s) {missing[:5]}")
    return AccuracyReport(solver.name, results)  # type: ignore[arg-type]
