"""`nar-solver evaluate`: accuracy of a solver over a puzzle set, with a 95% interval and breakdowns."""
from __future__ import annotations

from pathlib import Path

import click

from nar_solver.cli._choices import SOLVER_NAMES
from nar_solver.cli._solver_options import checked_manifold, ga_options, model_options, puzzle_set_options, settings_from
from nar_solver.errors import NarError
from nar_solver.io import atomic_write_json, check_writable


def load_set(path: Path | None, problems: Path | None, images: Path | None, limit: int | None) -> list:
    """Puzzles from PATH (any layout) or from --problems/--images (the few-shot-nar layout)."""
    from nar_solver.world.formats import load_puzzles, read_fewshot

    if (problems is None) != (images is None):
        raise NarError("--problems and --images go together (the problems JSON and its image folder)")
    if problems is not None:
        if path is not None:
            raise NarError("give either PATH or --problems/--images, not both")
        return read_fewshot(problems, images, limit)
    if path is None:
        raise NarError("give a puzzle PATH, or --problems FILE --images DIR")
    return load_puzzles(path, limit)


def print_report(report, console) -> None:
    from rich.table import Table

    low, high = report.interval
    console.print(f"[bold]{report.solver}[/]: accuracy {report.accuracy:.1%} "
                  f"(95% interval {low:.1%}-{high:.1%}, {report.correct}/{report.n})   "
                  f"{report.seconds_per_puzzle:.3f} s/puzzle")
    for category, values in report.per_category().items():
        table = Table(title=f"by {category}", title_justify="left")
        for col in (category, "n", "accuracy", "95% interval"):
            table.add_column(col, justify="right")
        for value, t in values.items():
            table.add_row(value, str(t["n"]), f"{t['accuracy']:.1%}", f"{t['low']:.1%}-{t['high']:.1%}")
        console.print(table)


@click.command(name="evaluate")
@puzzle_set_options
@click.option("--solver", "solver_name", type=click.Choice(SOLVER_NAMES), default="ga", show_default=True,
              help="The GA, or a baseline (docs/solver.md).")
@model_options
@ga_options
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N puzzles  [default: all]")
@click.option("--json-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help='Write {"accuracy", "n", "solver", "per_category", "interval_95", "settings", "results"} '
                   "to this file; each result row holds the answer, option scores, confidence and "
                   "examples_solved (docs/solver.md).")
@click.option("--figure", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a PNG of accuracy per family with 95% intervals.")
def command(path, problems, images, solver_name, checkpoint, manifold, device, seed, distance, strict, population,
            generations, limit, json_out, figure) -> None:
    """Solve every puzzle under PATH and report the accuracy with its 95% Wilson interval, overall
    and by family, program length, copies and object count."""
    for out in (json_out, figure):
        if out is not None:
            check_writable(out)  # before the run, not after it
    puzzles = load_set(path, problems, images, limit)
    if not puzzles:
        raise NarError("no puzzles found", path or problems)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from nar_solver.distributed import DistContext  # torch from here on
    from nar_solver.evaluate.sharded import evaluate_sharded, rank_device, shard_indices
    from nar_solver.solve.registry import make_solver

    settings = settings_from(checkpoint, manifold, rank_device(device), seed, distance, population, generations)
    solver = make_solver(solver_name, settings)
    manifold_obj = checked_manifold(solver, strict)  # fail fast on a bad checkpoint, before the progress bar
    main_rank = DistContext.from_env().is_main  # under torchrun: rank 0 shows progress, prints and writes
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True, disable=not main_rank) as progress:
        task = progress.add_task(f"solving with {solver_name}", total=len(shard_indices(len(puzzles))))
        report = evaluate_sharded(puzzles, solver, progress=lambda _: progress.advance(task))
    if not main_rank:
        return
    report.settings = {"solver": solver_name, **settings.to_json(),
                       "checkpoint": None if manifold_obj is None or manifold_obj.source is None
                       else str(manifold_obj.source)}
    print_report(report, Console())
    if report.n == 0:
        Console().print("[yellow]no puzzle has a known answer: nothing to score[/]")
    if json_out is not None:
        atomic_write_json(json_out, report.to_json())
        click.echo(f"results: {json_out}")
    if figure is not None:
        from nar_solver.evaluate.figures import accuracy_figure

        accuracy_figure(report, figure)
        click.echo(f"figure: {figure}")
