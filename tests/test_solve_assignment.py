"""The solver's own optimal assignment against scipy's, on the shapes the solver meets and on ties."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment as scipy_assignment

from nar_solver.solve.assignment import linear_sum_assignment


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (9, 9), (2, 7), (7, 2), (27, 9), (9, 27), (1, 5), (5, 1)])
def test_same_optimal_cost_as_scipy(shape):
    rng = np.random.default_rng(sum(shape))
    for _ in range(20):
        cost = rng.random(shape) * rng.choice([1.0, 1e-3, 100.0])
        rows, cols = linear_sum_assignment(cost)
        ref_rows, ref_cols = scipy_assignment(cost)
        assert len(rows) == min(shape)
        assert np.all(np.diff(rows) > 0) and len(set(cols.tolist())) == len(cols)  # a valid matching
        assert cost[rows, cols].sum() == pytest.approx(cost[ref_rows, ref_cols].sum(), rel=1e-12, abs=1e-12)


def test_integer_costs_with_ties():
    rng = np.random.default_rng(0)
    for n in range(1, 8):
        cost = rng.integers(0, 3, size=(n, n + 1)).astype(float)
        rows, cols = linear_sum_assignment(cost)
        ref_rows, ref_cols = scipy_assignment(cost)
        assert cost[rows, cols].sum() == cost[ref_rows, ref_cols].sum()


def test_a_known_case_and_the_empty_matrix():
    cost = np.array([[4.0, 1.0, 3.0], [2.0, 0.0, 5.0], [3.0, 2.0, 2.0]])
    rows, cols = linear_sum_assignment(cost)
    assert rows.tolist() == [0, 1, 2] and cols.tolist() == [1, 0, 2]
    rows, cols = linear_sum_assignment(np.zeros((0, 3)))
    assert rows.size == 0 and cols.size == 0


@pytest.mark.parametrize("bad", [np.array([[np.nan, 1.0]]), np.array([[np.inf, 1.0]]), np.zeros(3)])
def test_bad_cost_matrices_are_refused(bad):
    with pytest.raises(ValueError):
        linear_sum_assignment(bad)
