"""Baselines under the same Solver interface, to show what the GA adds.

- ``random``: a uniformly random option (seeded per puzzle).
- ``options-only``: the most central option (least mean pixel distance to the other options). It
  never looks at the examples; on a non-leaking puzzle set it must score chance.
- ``pixel``: pixel analogy. The query's ink plus the mean (right output - input) ink difference of
  the examples; the nearest option by mean squared error.
- ``latent-arithmetic``: the query's object codes moved by the mean code difference of the
  examples (per slot); the nearest option under the GA's distance. No search.
"""
from __future__ import annotations

import zlib

import numpy as np

from nar_solver.model.images import ink_of, ink_to_grey
from nar_solver.seeding import seed_everything
from nar_solver.solve.analogy import slot_deltas
from nar_solver.solve.solver import Solution, Solver, rule_solution, solution_from_scores
from nar_solver.world.puzzle import Puzzle

#: Softmax temperature of the pixel-MSE baselines' confidence.
PIXEL_TEMPERATURE = 0.002


def _labelled(puzzle: Puzzle) -> list:
    return [ex for ex in puzzle.examples if ex.answer is not None]


def _mse(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean squared difference over the last two axes."""
    return ((a - b) ** 2).mean(axis=(-1, -2))


class RandomSolver(Solver):
    name = "random"

    def _solve(self, puzzle: Puzzle, with_images: bool) -> Solution:
        rng = np.random.default_rng([self.settings.seed, zlib.crc32(str(puzzle.id).encode())])
        n = puzzle.n_options
        scores = np.zeros(n)
        scores[int(rng.integers(n))] = 1.0
        return Solution(int(np.argmax(scores)), scores.tolist(), 1.0 / n, None,
                        len(_labelled(puzzle)), 0.0, self.name)


class OptionsOnlySolver(Solver):
    name = "options-only"

    def _solve(self, puzzle: Puzzle, with_images: bool) -> Solution:
        ink = ink_of(puzzle.query_options)                                    # (O, H, W)
        pair = _mse(ink[:, None], ink[None, :])                               # (O, O)
        n = ink.shape[0]
        centrality = -pair.sum(1) / max(1, n - 1)
        return solution_from_scores(centrality, PIXEL_TEMPERATURE, self.name, None, len(_labelled(puzzle)))


class PixelAnalogySolver(Solver):
    name = "pixel"

    def _solve(self, puzzle: Puzzle, with_images: bool) -> Solution:
        examples = _labelled(puzzle)
        if examples:
            diff = np.mean([ink_of(ex.options[ex.answer]) - ink_of(ex.input) for ex in examples], axis=0)
        else:
            diff = np.zeros(puzzle.query.shape, dtype=np.float32)
        predict = lambda board: np.clip(ink_of(board) + diff, 0.0, 1.0)  # noqa: E731
        solved = sum(int(np.argmin(_mse(predict(ex.input)[None], ink_of(ex.options))) == ex.answer)
                     for ex in examples)
        prediction = predict(puzzle.query)
        scores = -_mse(prediction[None], ink_of(puzzle.query_options))
        solution = solution_from_scores(scores, PIXEL_TEMPERATURE, self.name, solved, len(examples))
        if with_images:
            solution.details["predicted_query"] = ink_to_grey(prediction[None])[0]
            solution.details["predicted_examples"] = ink_to_grey(np.stack([predict(ex.input) for ex in examples]))
        return solution


class LatentArithmeticSolver(Solver):
    name = "latent-arithmetic"
    needs_model = True

    def _solve(self, puzzle: Puzzle, with_images: bool) -> Solution:
        seed_everything(self.settings.seed)
        encoded, scorer = self.prepare(puzzle)  # the same encoding and distance as the GA
        genome = scorer.layout.from_parts(slot_deltas(encoded))
        return rule_solution(self.name, scorer, genome, with_images, slots=encoded.n_slots)
