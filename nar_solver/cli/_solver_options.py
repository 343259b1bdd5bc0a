"""Options shared by `solve`, `evaluate` and `tune`: which puzzles, which model, which GA settings.

Nothing here imports torch: the choices come from :mod:`nar_solver.cli._choices`, and the library
is imported when the settings are built, that is when there is something to solve.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import click

from nar_solver.cli._choices import (DEFAULT_MANIFOLD, DISTANCES, GA_DISTANCE, GA_GENERATIONS, GA_MAX_GENERATIONS,
                                     GA_MAX_POPULATION, GA_MIN_POPULATION, GA_POPULATION, MANIFOLD_KINDS, MAX_SEED)
from nar_solver.cli._options import DEFAULT_THREADS, DEVICE_HELP, check_threads

#: The GA copies its elite unchanged into each generation; a population must hold more (solve.ga).
MIN_POPULATION = GA_MIN_POPULATION
_THREADS_KEY = "nar_solver.threads"
#: The old --strict of solve (refuse a mismatched model); evaluate and tune add --stop-on-unreadable.
STRICT_SOLVE = {"--strict": ("--strict-model",)}
STRICT_SET = {"--strict": ("--strict-model", "--stop-on-unreadable")}


def _store_threads(ctx: click.Context, param: click.Parameter, value: int) -> int:
    """--threads, checked against the cores; the one-thread default of the solving commands was the
    fastest with and without other work on the machine (bench/solve_threads.py, docs/solver.md)."""
    ctx.meta[_THREADS_KEY] = check_threads(ctx, param, value)
    return value


def puzzle_set_options(func: Callable) -> Callable:
    """PATH, or --problems with --images (the few-shot-nar layout)."""
    func = click.option("--images", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="The few-shot-nar image folder (with --problems).")(func)
    func = click.option("--problems", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="A few-shot-nar problems JSON (with --images).")(func)
    return click.argument("path", type=click.Path(path_type=Path), required=False)(func)


def stop_on_unreadable_option(func: Callable) -> Callable:
    """--stop-on-unreadable (evaluate, tune): an unreadable puzzle is an error, not a skip."""
    return click.option("--stop-on-unreadable", is_flag=True,
                        help="Stop at the first puzzle that cannot be read (exit 2) instead of skipping "
                             "it with a warning.")(func)


def model_options(func: Callable) -> Callable:
    """--checkpoint, --manifold, --device, --seed, --distance, --strict-model, --threads."""
    options = [
        click.option("--checkpoint", type=click.Path(path_type=Path), default=None,
                     help="Run folder of a trained VAE (default: the shipped model of --manifold)."),
        click.option("--manifold", type=click.Choice(MANIFOLD_KINDS), default=DEFAULT_MANIFOLD, show_default=True,
                     help="objects-xy: per object, its grid position plus the object VAE's code of its "
                          "shape; objects: per object, the object VAE's code alone (position too); "
                          "board: one code per whole board (board VAE). See docs/solver.md."),
        click.option("--device", default="auto", show_default=True, help=DEVICE_HELP),
        click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
                     help="Seeds python random, numpy and torch for every puzzle."),
        click.option("--distance", type=click.Choice(DISTANCES), default=GA_DISTANCE, show_default=True,
                     help="How a prediction is compared with an option: object-code sets, or decoded "
                          "pixels (MSE, BCE, SSIM)."),
        click.option("--strict-model", is_flag=True,
                     help="Refuse a model whose training data does not fit --manifold (a board model on "
                          "an object manifold or the reverse) instead of warning on stderr."),
        click.option("--threads", type=int, default=DEFAULT_THREADS, show_default=True,
                     expose_value=False, callback=_store_threads,
                     help="CPU threads per process (0 = every core not busy at start; at most this "
                          "machine's cores). One is fastest for the GA's small batched work, also on a "
                          "busy machine."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def ga_options(func: Callable) -> Callable:
    """--population, --generations."""
    func = click.option("--generations", type=click.IntRange(0, GA_MAX_GENERATIONS), default=GA_GENERATIONS,
                        show_default=True, help="GA generations (at most; it stops early when every "
                                                "example is solved by a margin).")(func)
    func = click.option("--population", type=click.IntRange(MIN_POPULATION, GA_MAX_POPULATION), default=GA_POPULATION,
                        show_default=True, help="GA population size.")(func)
    return func


def confidence_option(func: Callable) -> Callable:
    """--min-confidence (solve, evaluate)."""
    return click.option("--min-confidence", type=click.FloatRange(0.0, 1.0), default=0.0, show_default=True,
                        help="Abstain (answer at chance confidence, with the reason) when the answer's "
                             "confidence is below this; evaluate reports accuracy and coverage over a "
                             "sweep of thresholds (docs/solver.md).")(func)


def checked_manifold(solver, strict_model: bool):
    """Load the solver's manifold (failing fast on a bad checkpoint) and check that its model fits
    the manifold kind: a warning on stderr, or with ``strict_model`` a one-line error. None for
    solvers that need no model."""
    if not solver.needs_model:
        return None
    from nar_solver.errors import CheckpointError
    from nar_solver.solve.fit import fit_problem

    manifold = solver.manifold
    problem = fit_problem(manifold.kind, manifold.trained_on)
    if problem is not None:
        if strict_model:
            raise CheckpointError(f"{problem} (refused: --strict-model)", manifold.source)
        click.echo(f"warning: {problem}; the answers mean little (--strict-model refuses)", err=True)
    return manifold


def settings_from(checkpoint: Path | None, manifold: str, device: str, seed: int, distance: str,
                  population: int | None = None, generations: int | None = None, min_confidence: float = 0.0):
    """The SolverSettings of the options; imports the solver (and torch) and sets --threads."""
    import dataclasses

    from nar_solver.device import set_cpu_threads
    from nar_solver.solve.ga import GAConfig
    from nar_solver.solve.solver import SolverSettings

    ctx = click.get_current_context(silent=True)
    threads = ctx.meta.get(_THREADS_KEY, DEFAULT_THREADS) if ctx is not None else DEFAULT_THREADS
    set_cpu_threads(threads)
    defaults = GAConfig()
    ga = dataclasses.replace(defaults, distance=distance,
                             population=population if population is not None else defaults.population,
                             generations=generations if generations is not None else defaults.generations)
    return SolverSettings(checkpoint=checkpoint, manifold=manifold, device=device, seed=seed, ga=ga,
                          min_confidence=min_confidence)
