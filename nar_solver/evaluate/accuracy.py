"""Accuracy of a solver over a puzzle set, with a 95% Wilson interval and breakdowns.

Breakdowns (only where the puzzles say it): ``family``, program ``length`` (primitives, control
tokens not counted), ``outs`` (copies the program emits), and ``objects`` (objects on the query
input, from its board when known, else from perception). Puzzles without a known answer are solved
and listed but not counted in the accuracy.

A puzzle that could not be read is *skipped* (by :mod:`nar_solver.evaluate.resumable`, which reads
puzzles one at a time; :func:`evaluate` takes puzzles already read): listed with its reason, never
counted right or wrong.
A puzzle the solver abstained on (:mod:`nar_solver.solve.abstain`) counts in the overall accuracy
by the answer it gave, and ``answered`` is the accuracy over the puzzles it did not abstain on, so
the two side by side show what the abstentions hide. ``calibration`` says whether the confidences
can be trusted (reliability bins, expected calibration error, a sweep of thresholds). ``complete`` is False for the report of an
interrupted run (docs/solver.md, "Evaluating").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from nar_solver.evaluate import calibration
from nar_solver.evaluate.stats import wilson_interval
from nar_solver.solve.perception import split_objects
from nar_solver.solve.solver import Solver
from nar_solver.world.program import count_outs, primitive_count
from nar_solver.world.puzzle import Puzzle

@dataclass
class PuzzleResult:
    """One solved puzzle. ``answer`` is the option the solver chose and ``correct_answer`` the right
    one (None when the puzzle does not say), as in ``solve --json`` (docs/solver.md)."""

    id: str
    answer: int
    correct_answer: int | None
    correct: bool | None
    seconds: float
    confidence: float
    examples_solved: int | None
    categories: dict[str, str] = field(default_factory=dict)
    scores: list[float] = field(default_factory=list)
    n_examples: int | None = None
    abstain: bool = False
    abstain_reason: str | None = None

    def to_json(self) -> dict:
        """One row of ``evaluate --json-out`` (docs/solver.md, "Evaluating")."""
        return {"id": self.id, "answer": self.answer, "correct_answer": self.correct_answer,
                "correct": self.correct, "seconds": self.seconds, "scores": [float(s) for s in self.scores],
                "confidence": float(self.confidence), "examples_solved": self.examples_solved,
                "n_examples": self.n_examples, "categories": dict(self.categories),
                "abstain": bool(self.abstain), "abstain_reason": self.abstain_reason}

    @classmethod
    def from_json(cls, row: dict) -> "PuzzleResult":
        """Back from :meth:`to_json` (a resumed evaluation reads its finished puzzles so). A row written
        before the fields were renamed (``predicted`` chosen, ``answer`` right) reads the same."""
        chosen, right = (row["answer"], row["correct_answer"]) if "correct_answer" in row else (row["predicted"], row["answer"])
        return cls(str(row["id"]), int(chosen), right, row["correct"], float(row["seconds"]),
                   float(row["confidence"]), row["examples_solved"], dict(row["categories"]),
                   [float(v) for v in row["scores"]], row["n_examples"], bool(row.get("abstain", False)),
                   row.get("abstain_reason"))


@dataclass
class SkippedPuzzle:
    """A puzzle that could not be read (or solved): where it is and why; never scored."""

    key: str
    source: str
    reason: str

    def to_json(self) -> dict:
        return {"key": self.key, "source": self.source, "reason": self.reason}

    @classmethod
    def from_json(cls, row: dict) -> "SkippedPuzzle":
        return cls(str(row["key"]), str(row["source"]), str(row["reason"]))


@dataclass
class Tally:
    n: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    def to_json(self) -> dict:
        low, high = wilson_interval(self.correct, self.n)
        return {"n": self.n, "correct": self.correct, "accuracy": self.accuracy, "low": low, "high": high}


@dataclass
class AccuracyReport:
    solver: str
    results: list[PuzzleResult]
    settings: dict = field(default_factory=dict)
    skipped: list[SkippedPuzzle] = field(default_factory=list)
    complete: bool = True

    @property
    def scored(self) -> list[PuzzleResult]:
        return [r for r in self.results if r.correct is not None]

    @property
    def abstained(self) -> int:
        """Scored puzzles the solver abstained on."""
        return sum(1 for r in self.scored if r.abstain)

    @property
    def answered(self) -> Tally:
        """The tally over scored puzzles the solver did not abstain on."""
        kept = [r for r in self.scored if not r.abstain]
        return Tally(len(kept), sum(1 for r in kept if r.correct))

    @property
    def n(self) -> int:
        return len(self.scored)

    @property
    def correct(self) -> int:
        return sum(1 for r in self.scored if r.correct)

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.correct, self.n)

    @property
    def seconds_per_puzzle(self) -> float:
        return sum(r.seconds for r in self.results) / len(self.results) if self.results else 0.0

    def per_category(self) -> dict[str, dict[str, dict]]:
        """{category: {value: {n, correct, accuracy, low, high}}} over scored puzzles."""
        table: dict[str, dict[str, Tally]] = {}
        for r in self.scored:
            for category, value in r.categories.items():
                tally = table.setdefault(category, {}).setdefault(value, Tally())
                tally.n += 1
                tally.correct += int(bool(r.correct))
        return {c: {v: t.to_json() for v, t in sorted(values.items(), key=lambda kv: _order(kv[0]))}
                for c, values in table.items()}

    def calibration(self) -> dict:
        """Over scored puzzles: the reliability table (:data:`calibration.BINS` bins), the expected
        calibration error and the sweep of confidence thresholds (:mod:`nar_solver.evaluate.calibration`).
        An abstained answer counts at the chance confidence it was given."""
        conf = [r.confidence for r in self.scored]
        right = [bool(r.correct) for r in self.scored]
        return {"ece": calibration.expected_calibration_error(conf, right),
                "bins": [b.to_json() for b in calibration.reliability_table(conf, right)],
                "sweep": [row.to_json() for row in calibration.threshold_sweep(conf, right)]}

    def to_json(self) -> dict:
        """The documented schema of ``nar-solver evaluate --json-out`` (plus interval, timing and settings)."""
        low, high = self.interval
        return {"accuracy": self.accuracy, "n": self.n, "solver": self.solver,
                "per_category": self.per_category(), "results": [r.to_json() for r in self.results],
                "interval_95": [low, high], "seconds_per_puzzle": self.seconds_per_puzzle,
                "settings": self.settings, "complete": self.complete, "abstained": self.abstained,
                "answered": self.answered.to_json(), "calibration": self.calibration(),
                "n_skipped": len(self.skipped),
                "skipped": [s.to_json() for s in self.skipped]}


def _order(value: str):
    return (0, int(value), "") if value.isdigit() else (1, 0, value)


def categories_of(puzzle: Puzzle) -> dict[str, str]:
    """What the puzzle says about itself: family, program length and outs, query object count."""
    out: dict[str, str] = {}
    if puzzle.family:
        out["family"] = str(puzzle.family)
    if puzzle.program:
        out["length"] = str(primitive_count(puzzle.program))
        out["outs"] = str(count_outs(puzzle.program))
    if puzzle.query_board is not None:
        out["objects"] = str(len(puzzle.query_board))
    else:
        out["objects"] = str(len(split_objects(puzzle.query)))
    return out


def evaluate(puzzles: Iterable[Puzzle], solver: Solver,
             progress: Callable[[PuzzleResult], None] | None = None) -> AccuracyReport:
    """Solve every puzzle and tally the answers; ``progress`` is called after each puzzle."""
    results = []
    for puzzle in puzzles:
        result = solve_one(puzzle, solver)
        results.append(result)
        if progress is not None:
            progress(result)
    return AccuracyReport(solver.name, results)


def solve_one(puzzle: Puzzle, solver: Solver) -> PuzzleResult:
    """Solve one puzzle and score its answer."""
    solution = solver.solve(puzzle)
    right = puzzle.query_answer
    return PuzzleResult(str(puzzle.id), int(solution.answer), right,
                        None if right is None else bool(solution.answer == right),
                        float(solution.seconds), float(solution.confidence), solution.examples_solved,
                        categories_of(puzzle), [float(v) for v in solution.scores],
                        int(solution.n_examples), bool(solution.abstain), solution.abstain_reason)
