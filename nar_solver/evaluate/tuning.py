"""Population x generations sweep of the GA: accuracy against time, the Pareto front, a default.

Every (population, generations) pair solves the same puzzles with the same seed. A pair is on the
Pareto front when no other pair is at least as accurate and at least as fast (and strictly better
in one). The recommended default is the fastest pair on the front whose accuracy is within
``tolerance`` of the best accuracy measured.

Times on a shared machine jitter, so every pair is timed ``repeats`` times (default 3) and its
``seconds_per_puzzle`` is the median; the recommendation uses that median. Answers do not depend on
the repeat (the same seed), so accuracy comes from the first run.

Like ``evaluate`` (:mod:`nar_solver.evaluate.resumable`), a sweep keeps its results: with a
partial file every finished point is appended to it, SIGINT / SIGTERM end the sweep with the
report of the points done (``complete`` False, ``interrupted`` set; the Pareto front and the
recommendation are then over those points only), and ``resume`` takes the points already in the
file instead of measuring them again (their timings are the ones measured then).
"""
from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass, field
from typing import Callable, Sequence

from nar_solver.errors import NarError
from nar_solver.evaluate.accuracy import SkippedPuzzle, evaluate
from nar_solver.evaluate.interrupt import Interrupted, interruptible
from nar_solver.evaluate.partial import PartialLog
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

    @property
    def key(self) -> str:
        return f"{self.population}x{self.generations}"

    def to_json(self) -> dict:
        low, high = self.interval
        return {**dataclasses.asdict(self), "low": low, "high": high}

    @classmethod
    def from_json(cls, row: dict) -> "TunePoint":
        """Back from :meth:`to_json` (the interval is recomputed)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in row.items() if k in names})


@dataclass
class TuneReport:
    points: list[TunePoint]
    tolerance: float
    settings: dict = field(default_factory=dict)
    complete: bool = True
    skipped: list[SkippedPuzzle] = field(default_factory=list)
    interrupted: Interrupted | None = field(default=None, repr=False)

    @property
    def pareto(self) -> list[TunePoint]:
        return sorted([p for p in self.points if p.pareto], key=lambda p: p.seconds_per_puzzle)

    @property
    def recommended(self) -> TunePoint:
        return next(p for p in self.points if p.recommended)

    def to_json(self) -> dict:
        rec = self.recommended if self.points else None
        return {"points": [p.to_json() for p in self.points], "tolerance": self.tolerance,
                "recommended": None if rec is None else {"population": rec.population,
                                                         "generations": rec.generations},
                "settings": self.settings, "complete": self.complete, "n_skipped": len(self.skipped),
                "skipped": [s.to_json() for s in self.skipped]}


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
         repeats: int = 3, log: PartialLog | None = None, header: dict | None = None,
         resume: bool = False) -> TuneReport:
    """Evaluate the GA on ``puzzles`` for every (population, generations) pair, timing each pair
    ``repeats`` times (median). With ``log`` each finished pair is streamed to it and ``resume``
    continues from it (module docstring)."""
    if not puzzles:
        raise NarError("no puzzles to tune on")
    if repeats < 1:
        raise NarError(f"repeats must be at least 1, got {repeats}")
    settings = settings or SolverSettings()
    done = _finished_points(log, header, resume)
    points: list[TunePoint] = []
    interrupted = None
    with interruptible() as guard:
        try:
            for population in populations:
                for gens in generations:
                    point = done.get(f"{population}x{gens}")
                    if point is None:
                        point, manifold = _measure(puzzles, population, gens, settings, manifold, repeats)
                        with guard.critical():
                            if log is not None:
                                log.append({"kind": "point", "key": point.key, "row": point.to_json()})
                            points.append(point)
                    else:
                        points.append(point)
                    if progress is not None:
                        progress(point)
        except Interrupted as err:
            interrupted = err
    if points:
        mark_pareto(points, tolerance)
    return TuneReport(points, tolerance, {**settings.to_json(), "repeats": repeats},
                      complete=interrupted is None, interrupted=interrupted)


def _finished_points(log: PartialLog | None, header: dict | None, resume: bool) -> dict[str, TunePoint]:
    """The points of an interrupted sweep (resume), or none after starting a fresh partial file."""
    if log is None:
        if resume:
            raise NarError("--resume needs the partial results file of --json-out")
        return {}
    if not resume:
        log.start(header or {})
        return {}
    return {str(r["key"]): TunePoint.from_json(r["row"]) for r in log.resume(header or {})
            if r.get("kind") == "point"}


def _measure(puzzles: Sequence[Puzzle], population: int, gens: int, settings: SolverSettings,
             manifold: LatentManifold | None, repeats: int) -> tuple[TunePoint, LatentManifold]:
    """One pair's accuracy and median time; the manifold comes back loaded, to share."""
    config = dataclasses.replace(settings.ga, population=population, generations=gens)
    solver = GASolver(dataclasses.replace(settings, ga=config), manifold)
    report = evaluate(puzzles, solver)
    timings = [report.seconds_per_puzzle]
    timings += [evaluate(puzzles, solver).seconds_per_puzzle for _ in range(repeats - 1)]
    point = TunePoint(population, gens, report.accuracy, report.n, report.correct,
                      statistics.median(timings), timings=timings)
    return point, solver.manifold
