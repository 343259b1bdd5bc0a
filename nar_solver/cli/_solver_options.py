"""Options shared by `solve`, `evaluate` and `tune`: which puzzles, which model, which GA settings."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import click

from nar_solver.solve.fitness import DISTANCES
from nar_solver.solve.ga import MIN_POPULATION, GAConfig
from nar_solver.solve.manifold import DEFAULT_KIND, KINDS
from nar_solver.solve.solver import SolverSettings

_DEFAULTS = GAConfig()


def puzzle_set_options(func: Callable) -> Callable:
    """PATH, or --problems with --images (the few-shot-nar layout)."""
    func = click.option("--images", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="The few-shot-nar image folder (with --problems).")(func)
    func = click.option("--problems", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="A few-shot-nar problems JSON (with --images).")(func)
    return click.argument("path", type=click.Path(path_type=Path), required=False)(func)


def model_options(func: Callable) -> Callable:
    """--checkpoint, --manifold, --device, --seed, --distance, --strict."""
    options = [
        click.option("--checkpoint", type=click.Path(path_type=Path), default=None,
                     help="Run folder of a trained VAE (default: the shipped model of --manifold)."),
        click.option("--manifold", type=click.Choice(KINDS), default=DEFAULT_KIND, show_default=True,
                     help="objects-xy: per object, its grid position plus the object VAE's code of its "
                          "shape; objects: per object, the object VAE's code alone (position too); "
                          "board: one code per whole board (board VAE). See docs/solver.md."),
        click.option("--device", default="auto", show_default=True,
                     help="auto | cpu | cuda | cuda:N (auto = CUDA when available)."),
        click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
                     help="Seeds python random, numpy and torch for every puzzle."),
        click.option("--distance", type=click.Choice(DISTANCES), default=_DEFAULTS.distance, show_default=True,
                     help="How a prediction is compared with an option: object-code sets, or decoded "
                          "pixels (MSE, BCE, SSIM)."),
        click.option("--strict", is_flag=True,
                     help="Refuse a model whose training data does not fit --manifold (a board model on "
                          "an object manifold or the reverse) instead of warning on stderr."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def ga_options(func: Callable) -> Callable:
    """--population, --generations."""
    func = click.option("--generations", type=click.IntRange(min=0), default=_DEFAULTS.generations,
                        show_default=True, help="GA generations (at most; it stops early when every "
                                                "example is solved by a margin).")(func)
    func = click.option("--population", type=click.IntRange(min=MIN_POPULATION), default=_DEFAULTS.population,
                        show_default=True, help="GA population size.")(func)
    return func


def checked_manifold(solver, strict: bool):
    """Load the solver's manifold (failing fast on a bad checkpoint) and check that its model fits
    the manifold kind: a warning on stderr, or with ``strict`` a one-line error. None for solvers
    that need no model."""
    if not solver.needs_model:
        return None
    from nar_solver.errors import CheckpointError
    from nar_solver.solve.fit import fit_problem

    manifold = solver.manifold
    problem = fit_problem(manifold.kind, manifold.trained_on)
    if problem is not None:
        if strict:
            raise CheckpointError(f"{problem} (refused: --strict)", manifold.source)
        click.echo(f"warning: {problem}; the answers mean little (--strict refuses)", err=True)
    return manifold


def settings_from(checkpoint: Path | None, manifold: str, device: str, seed: int, distance: str,
                  population: int | None = None, generations: int | None = None) -> SolverSettings:
    ga = dataclasses.replace(_DEFAULTS, distance=distance,
                             population=population if population is not None else _DEFAULTS.population,
                             generations=generations if generations is not None else _DEFAULTS.generations)
    return SolverSettings(checkpoint=checkpoint, manifold=manifold, device=device, seed=seed, ga=ga)
