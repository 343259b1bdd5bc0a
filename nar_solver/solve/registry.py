"""Solvers by name: the GA and every baseline, behind ``make_solver(name, settings)``."""
from __future__ import annotations

from typing import Callable

from nar_solver.errors import NarError
from nar_solver.solve.baselines import LatentArithmeticSolver, OptionsOnlySolver, PixelAnalogySolver, RandomSolver
from nar_solver.solve.manifold import LatentManifold
from nar_solver.solve.solver import GASolver, Solver, SolverSettings

#: Every solver's name, the GA first: a literal, so the CLI can read it without importing torch.
SOLVER_NAMES: tuple[str, ...] = ("ga", "latent-arithmetic", "pixel", "options-only", "random")
#: Every solver, by its name (``Solver.name``).
SOLVERS: dict[str, Callable[..., Solver]] = {
    cls.name: cls for cls in (GASolver, LatentArithmeticSolver, PixelAnalogySolver, OptionsOnlySolver, RandomSolver)
}
if tuple(SOLVERS) != SOLVER_NAMES:  # pragma: no cover - a solver added to one list and not the other
    raise ImportError(f"SOLVER_NAMES {SOLVER_NAMES} must list the registered solvers {tuple(SOLVERS)} in order")


def make_solver(name: str, settings: SolverSettings | None = None,
                manifold: LatentManifold | None = None) -> Solver:
    """The solver registered as ``name`` (see :data:`SOLVER_NAMES`)."""
    if name not in SOLVERS:
        raise NarError(f"unknown solver {name!r}; choose one of {', '.join(SOLVER_NAMES)}")
    return SOLVERS[name](settings, manifold)
