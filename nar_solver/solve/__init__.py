"""Solving puzzles: perception, the latent manifold, the GA and the baselines behind one interface.

    from nar_solver.solve import SolverSettings, make_solver
    from nar_solver.world import load_puzzle
    solution = make_solver("ga", SolverSettings(seed=0)).solve(load_puzzle("puzzles/shift1-a"))

The submodules hold the full API; the names below are the ones most callers need.
"""
from nar_solver.solve.ga import GAConfig
from nar_solver.solve.manifold import LatentManifold, load_manifold
from nar_solver.solve.registry import SOLVER_NAMES, make_solver
from nar_solver.solve.solver import Solution, Solver, SolverSettings

__all__ = ["GAConfig", "LatentManifold", "load_manifold", "SOLVER_NAMES", "Solution", "Solver", "SolverSettings",
           "make_solver"]
