"""The import paths the README and docstrings promise, and the shipped model on the shipped puzzles."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_puzzle_world_imports_without_torch():
    code = "import sys, nar_solver.world, nar_solver.world.formats; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.fixture(scope="module")
def shipped_solver():
    from nar_solver.solve import SolverSettings, make_solver

    return make_solver("ga", SolverSettings(seed=0))


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "puzzles").iterdir() if p.is_dir()))
def test_shipped_model_solves_every_shipped_puzzle(shipped_solver, name):
    from nar_solver.world import load_puzzle

    puzzle = load_puzzle(ROOT / "puzzles" / name)
    solution = shipped_solver.solve(puzzle)
    assert solution.answer == puzzle.query_answer
    assert solution.examples_solved == puzzle.n_examples


def test_evaluate_api_scores_the_shipped_model_on_fresh_puzzles(shipped_solver):
    from nar_solver.evaluate import evaluate
    from nar_solver.world import generate_puzzles

    report = evaluate(generate_puzzles(9_000_000, 8, "shift"), shipped_solver)
    assert report.n == 8
    assert report.correct >= 7  # 99.5% on 200 (bench/solver_accuracy.py); chance is 25%
    low, high = report.interval
    assert low <= report.accuracy <= high


@pytest.fixture(scope="module")
def shipped_latent_solver():
    from nar_solver.solve import SolverSettings, make_solver

    return make_solver("ga", SolverSettings(seed=0, manifold="objects"))


def test_shipped_latent_model_alone_answers_the_shipped_puzzles_and_owns_its_misses(shipped_latent_solver):
    """Pure latent search: position and shape come from the what/where model's code alone (the
    default model of ``--manifold objects``). It answers all 6 shipped puzzles (measured; the test
    allows one miss for seed-to-seed GA variation); a miss must never claim to reproduce all its
    examples."""
    from nar_solver.world import load_puzzle

    assert shipped_latent_solver.manifold.vae.architecture == "whatwhere32"
    right = 0
    for folder in sorted(p for p in (ROOT / "puzzles").iterdir() if p.is_dir()):
        puzzle = load_puzzle(folder)
        solution = shipped_latent_solver.solve(puzzle)
        if solution.answer == puzzle.query_answer:
            right += 1
        else:
            assert solution.examples_solved < solution.n_examples, folder.name
    assert right >= 5
