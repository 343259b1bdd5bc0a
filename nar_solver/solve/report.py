"""Everything `nar-solver solve` says about one solved puzzle, as one JSON-safe dict.

The schema of ``nar-solver solve --json`` (docs/solver.md, "What solve prints"):

    puzzle, solver, manifold           the puzzle's id, the solver's and the manifold's names
    answer, scores, confidence         the chosen option, every option's score, its softmax probability
    correct_answer, correct            the right option and whether it was chosen (null when unknown)
    examples_solved, n_examples        examples the rule reproduces, out of the labelled ones
                                       (pure latent manifolds: whose decoded prediction is
                                       nearest, in pixels, to the right option)
    margins                            per example, right option's lead over the nearest wrong one,
                                       in temperatures (null for solvers without a rule)
    reproduction                       per example, distance to the right option / that option's
                                       distance to the nearest other option (solved: <= 0.25)
    rule                               per slot {"slot", "text", "axes", "shape", "dimensions"}
    generations, stopped_early         GA only: generations run, early stop reached
    logbook                            GA only: per generation {gen, nevals, sigma, max, avg, min, margin}
    seed, checkpoint, version          the seed, the resolved checkpoint folder, nar-solver's version
    seconds, notes                     solve time (model loading excluded), warnings
"""
from __future__ import annotations

from typing import Any

import nar_solver
from nar_solver.json_values import json_ready


def logbook_rows(logbook) -> list[dict[str, Any]] | None:
    """A DEAP Logbook as a list of plain dicts (None when there is none)."""
    if logbook is None:
        return None
    return [json_ready(dict(row)) for row in logbook]


def solve_report(puzzle, solution, solver, rule=None) -> dict[str, Any]:
    """The full record of one solve (see the module docstring for the fields)."""
    details = solution.details
    known = puzzle.query_answer
    manifold = solver._manifold if solver.needs_model else None
    source = None if manifold is None or manifold.source is None else str(manifold.source)
    report = {
        "puzzle": str(puzzle.id),
        "solver": solution.solver,
        "manifold": solver.settings.manifold if solver.needs_model else None,
        **solution.to_json(),
        "n_examples": int(solution.n_examples),
        "correct_answer": None if known is None else int(known),
        "correct": None if known is None else bool(solution.answer == known),
        "margins": details.get("margins"),
        "reproduction": details.get("reproduction"),
        "rule": None if rule is None else [r.to_json() for r in rule],
        "generations": details.get("generations"),
        "stopped_early": details.get("stopped_early"),
        "logbook": logbook_rows(details.get("logbook")),
        "seed": int(solver.settings.seed),
        "checkpoint": source,
        "version": nar_solver.__version__,
        "notes": list(solution.notes),
    }
    return json_ready(report)
