"""Honest answers on puzzles the solver cannot read: break ties fairly, and abstain.

A solver always names an option, but on noise, a blank page or boards that are not NAR boards its
answer means nothing, and the softmax confidence of near-equal or huge distances says otherwise
(pure noise gave confidence 1.00). Three signs that the solver could not read a puzzle
(docs/solver.md, "Abstaining"):

- **perception**: an example input or the query input is mostly ink (more than
  :data:`MAX_INK` of its pixels dark: an all-black or colour-inverted image, where even nine
  filled squares ink 27%), holds no object, or more objects than the 3x3 grid holds
  (:data:`MAX_OBJECTS`);
- **a tie**: every option scores within :data:`TIE_TEMPERATURES` temperatures of the best, so the
  scores cannot tell the options apart;
- **the examples**: the solver's own rule picks the right option (strictly nearest, by more than
  a tie) on fewer than half of the examples. This is the examples' ``margins`` where the solver
  has them, else ``examples_solved``; not the stricter reproduction count of
  :mod:`nar_solver.solve.selfcheck`, which a right rule can miss on shape conversions (a decoded
  square sits half-way between options while winning every example: 0/6 reproduced, answer right
  at 0.84 on generated shape puzzles).

- **low confidence** (only when asked, ``--min-confidence T``): the answer's confidence is below
  T, so the caller would rather have no answer than one that is right less often than T says.

On any of them the solution is marked ``abstain`` with the reason, and its confidence is chance
(1 / number of options). Independently, options tied with the best are chosen between at random
under the seed and the puzzle's id (not always the first, which made blank puzzles look solved
whenever the right answer happened to be option 0); the draw does not depend on the order in
which puzzles are solved.
"""
from __future__ import annotations

import zlib

import numpy as np

from nar_solver.solve.perception import split_objects
from nar_solver.world.board import GRID
from nar_solver.world.puzzle import Puzzle

#: The most objects a NAR board holds: one per grid cell.
MAX_OBJECTS = GRID * GRID
#: Options whose scores differ from the best by less than this many softmax temperatures are tied
#: (their softmax probabilities differ by under 1%).
TIE_TEMPERATURES = 0.01
#: Below this fraction of examples won the rule has not understood the examples.
MIN_SOLVED_FRACTION = 0.5
#: A NAR board is black objects on white: its fullest board (nine squares) inks 27% of its pixels,
#: so its colour-inverted image inks at least 73%. More than this fraction dark is an inverted or
#: all-black image, not a board (uniform noise, about 50%, is left to the other signs).
MAX_INK = 0.6


def tie_rng(seed: int, puzzle_id: str) -> np.random.Generator:
    """The generator of one puzzle's tie-break: fixed by the seed and the puzzle, not by the order."""
    return np.random.default_rng([int(seed), zlib.crc32(str(puzzle_id).encode())])


def tied_best(scores, temperature: float | None) -> list[int]:
    """Indices of the options tied with the best score (exact ties when there is no temperature)."""
    scores = np.asarray(scores, dtype=np.float64)
    tolerance = 0.0 if temperature is None else TIE_TEMPERATURES * float(temperature)
    return [int(i) for i in np.flatnonzero(scores >= scores.max() - tolerance)]


def perception_problem(puzzle: Puzzle) -> str | None:
    """Why perception cannot read the puzzle's inputs (None when every input holds 1..9 objects)."""
    boards = [(f"example {e} input", ex.input) for e, ex in enumerate(puzzle.examples)]
    boards.append(("the query input", puzzle.query))
    for where, board in boards:
        ink = float((np.asarray(board) < 128).mean())
        if ink > MAX_INK:
            return f"{where} is {ink:.0%} ink, not black objects on white (an inverted or all-black image?)"
        count = len(split_objects(board))
        if count == 0:
            return f"perception finds no object on {where}"
        if count > MAX_OBJECTS:
            return f"perception finds {count} objects on {where}, more than the grid holds ({MAX_OBJECTS})"
    return None


def abstain_reason(puzzle: Puzzle, solution, min_confidence: float = 0.0) -> str | None:
    """The first sign that ``solution`` is a guess (see the module docstring), or None."""
    problem = perception_problem(puzzle)
    if problem is not None:
        return problem
    n_options = len(solution.scores)
    if n_options > 1 and len(tied_best(solution.scores, solution.details.get("temperature"))) == n_options:
        return "all options score the same"
    won, n = examples_won(solution), solution.n_examples
    if won is not None and n > 0 and won < MIN_SOLVED_FRACTION * n:
        return f"the rule picks the right option on only {won} of the {n} examples"
    if float(solution.confidence) < float(min_confidence):
        return f"confidence {solution.confidence:.3f} is below --min-confidence {float(min_confidence):g}"
    return None


def examples_won(solution) -> int | None:
    """Examples whose right option the solver's rule makes win by more than a tie (None without
    a rule to check)."""
    margins = solution.details.get("margins")
    if margins is not None:
        return sum(1 for m in margins if float(m) > TIE_TEMPERATURES)
    return solution.examples_solved


def settle(puzzle: Puzzle, solution, seed: int, min_confidence: float = 0.0) -> None:
    """Break a tie for the best option at random under ``seed``, then abstain (confidence at chance,
    ``abstain`` and its reason set) when the puzzle could not be read or the confidence is below
    ``min_confidence``. Changes ``solution`` in place."""
    tied = tied_best(solution.scores, solution.details.get("temperature"))
    if len(tied) > 1:
        solution.answer = int(tie_rng(seed, puzzle.id).choice(tied))
        solution.details["tied_options"] = tied
    reason = abstain_reason(puzzle, solution, min_confidence)
    if reason is not None:
        solution.abstain = True
        solution.abstain_reason = reason
        solution.confidence = 1.0 / max(1, len(solution.scores))
