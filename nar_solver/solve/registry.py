"""Solvers by name: the GA and every baseline, behind ``make_solver(name, settings)``."""
from __future__ import annotations

from typing import Callable

from nar_solver.errors import NarError
from nar_solver.solve.baselines import LatentArithmeticSolver, OptionsOnlySolver, PixelAnalogySolver, RandomSolver
from nar_solver.solve.manifold import LatentManifold
from nar_solver.solve.solver import GASolver, Solver, SolverSettings

#: Every solver, by its name (``Solver.name``), the GA first.
SOLVERS: dict[str, Callable[..., Solver]] = {
    cls.name: cls for cls in (GASolver, LatentArithmeticSolver, PixelAnalogySolver, OptionsOnlySolver, RandomSolver)
}
SOLVER_NAMES: tuple[str, ...] = tuple(SOLVERS)


def make_solver(name: str, settings: SolverSettings | None = None,
                manifold: LatentManifold | None = None) -> Solver:
    """The solver registered as ``name`` (see :data:`SOLVER_NAMES`)."""
    if name not in SOLVERS:
        raise NarError(f"unknown solver {name!r}; choose one of {', '.join(SOLVER_NAMES)}")
    return SOLVERS[name](settings, manifold)
