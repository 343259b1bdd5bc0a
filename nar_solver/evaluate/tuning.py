"""Population x generations sweep of the GA: accuracy against time, the Pareto front, a default.

Every (population, generations) pair solves the same puzzles with the same seed. A pair is on the
Pareto front when no other pair is at least as accurate and at least as fast (and strictly better
in one). The recommended default is the fastest pair on the front whose accuracy is within
``tolerance`` of the best accuracy measured.

Times on a shared machine jitter, so every pair is timed ``repeats`` times (default 3) and its
``seconds_per_puzzle`` is the median; the recommendation uses that median. Answers do not depend on
the repeat (the same seed), so accuracy comes from the first run.
"""
from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass, field
from typing import Callable, Sequence

from nar_solver.errors import NarError
from nar_solver.evaluate.accuracy import evaluate
from nar_solver.evaluate.stats import wilson_interval
from nar_solver.solve.manifold import LatentManifold
from nar_solver.solve.solver import GASolver, SolverSettings
from nar_solver.world.puzzle import Puzzle


@dataclass
class TunePoint:
    population: int
    generations: int
    accuracy: float
    n: int
    correct: int
    seconds_per_puzzle: float       # median over ``timings``
    pareto: bool = False
    recommended: bool = False
    timings: list[float] = field(default_factory=list)  # seconds per puzzle of each repeat

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.correct, self.n)

    def to_json(self) -> dict:
        low, high = self.interval
        return {**dataclasses.asdict(self), "low": low, "high": high}


@dataclass
class TuneReport:
    points: list[TunePoint]
    tolerance: float
    settings: dict = field(default_factory=dict)

    @property
    def pareto(self) -> list[TunePoint]:
        return sorted([p for p in self.points if p.pareto], key=lambda p: p.seconds_per_puzzle)

    @property
    def recommended(self) -> TunePoint:
        return next(p for p in self.points if p.recommended)

    def to_json(self) -> dict:
        rec = self.recommended
        return {"points": [p.to_json() for p in self.points], "tolerance": self.tolerance,
                "recommended": {"population": rec.population, "generations": rec.generations},
                "settings": self.settings}


def parse_int_list(text: str, name: str) -> list[int]:
    """"16,32,64" -> [16, 32, 64]; a one-line error for anything else."""
    try:
        values = [int(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise NarError(f"{name} must be comma-separated whole numbers, got {text!r}") from None
    if not values or any(v < 0 for v in values):
        raise NarError(f"{name} must list at least one non-negative whole number, got {text!r}")
    return sorted(set(values))


def mark_pareto(points: Sequence[TunePoint], tolerance: float) -> None:
    """Set ``pareto`` and ``recommended`` on ``points`` (in place)."""
    for p in points:
        p.pareto = not any(
            q is not p and q.accuracy >= p.accuracy and q.seconds_per_puzzle <= p.seconds_per_puzzle
            and (q.accuracy > p.accuracy or q.seconds_per_puzzle < p.seconds_per_puzzle)
            for q in points)
        p.recommended = False
    best = max(p.accuracy for p in points)
    good = [p for p in points if p.pareto and p.accuracy >= best - tolerance]
    min(good, key=lambda p: (p.seconds_per_puzzle, -p.accuracy)).recommended = True


def tune(puzzles: Sequence[Puzzle], populations: Sequence[int], generations: Sequence[int],
         settings: SolverSettings | None = None, manifold: LatentManifold | None = None,
         tolerance: float = 0.01, progress: Callable[[TunePoint], None] | None = None,
         repeats: int = 3) -> TuneReport:
    """Evaluate the GA on ``puzzles`` for every (population, generations) pair, timing each pair
    ``repeats`` times (median)."""
    if not puzzles:
        raise NarError("no puzzles to tune on")
    if repeats < 1:
        raise NarError(f"repeats must be at least 1, got {repeats}")
    settings = settings or SolverSettings()
    points = []
    for population in populations:
        for gens in generations:
            config = dataclasses.replace(settings.ga, population=population, generations=gens)
            solver = GASolver(dataclasses.replace(settings, ga=config), manifold)
            manifold = solver.manifold  # load once, share across the sweep
            report = evaluate(puzzles, solver)
            timings = [report.seconds_per_puzzle]
            timings += [evaluate(puzzles, solver).seconds_per_puzzle for _ in range(repeats - 1)]
            point = TunePoint(population, gens, report.accuracy, report.n, report.correct,
                              statistics.median(timings), timings=timings)
            points.append(point)
            if progress is not None:
                progress(point)
    mark_pareto(points, tolerance)
    return TuneReport(points, tolerance, {**settings.to_json(), "repeats": repeats})
