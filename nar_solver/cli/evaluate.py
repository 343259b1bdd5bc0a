"""`nar-solver evaluate`: accuracy of a solver over a puzzle set, with a 95% interval and breakdowns."""
from __future__ import annotations

from pathlib import Path

import click

from nar_solver.cli._choices import SOLVER_NAMES
from nar_solver.cli._solver_options import checked_manifold, ga_options, model_options, puzzle_set_options, settings_from
from nar_solver.errors import NarError
from nar_solver.io import atomic_write_json, check_writable


def load_set(path: Path | None, problems: Path | None, images: Path | None, limit: int | None):
    """The entries of PATH (any layout) or of --problems/--images (the few-shot-nar layout), each
    read on its own when solved (nar_solver.world.puzzle_set)."""
    from nar_solver.world.puzzle_set import fewshot_set, puzzle_set

    if (problems is None) != (images is None):
        raise NarError("--problems and --images go together (the problems JSON and its image folder)")
    if problems is not None:
        if path is not None:
            raise NarError("give either PATH or --problems/--images, not both")
        return fewshot_set(problems, images, limit)
    if path is None:
        raise NarError("give a puzzle PATH, or --problems FILE --images DIR")
    return puzzle_set(path, limit)


def warn_skip(skip) -> None:
    """The one-line warning of a skipped puzzle, on stderr."""
    click.echo(f"warning: skipped puzzle {skip.key}: {skip.reason}", err=True)


def partial_log(json_out: Path | None, resume: bool):
    """The partial results file beside --json-out (None without it), checked against --resume."""
    from nar_solver.evaluate.partial import PartialLog, partial_path

    if json_out is None:
        if resume:
            raise NarError("--resume needs --json-out FILE: the results file of the run to continue")
        return None
    log = PartialLog(partial_path(json_out))
    if log.exists() and not resume:
        raise NarError("holds the results of an interrupted run; continue it with --resume, or delete it to "
                       "start afresh", log.path)
    return log


def run_header(command: str, path: Path | None, problems: Path | None, settings: dict) -> dict:
    """What a partial file must match to be resumed: the command, the puzzle set and the settings."""
    return {"command": command, "set": str(Path(path or problems).resolve()), "settings": settings}


def print_report(report, console) -> None:
    from rich.table import Table

    low, high = report.interval
    console.print(f"[bold]{report.solver}[/]: accuracy {report.accuracy:.1%} "
                  f"(95% interval {low:.1%}-{high:.1%}, {report.correct}/{report.n})   "
                  f"{report.seconds_per_puzzle:.3f} s/puzzle")
    if report.abstained:
        answered = report.answered
        console.print(f"abstained on {report.abstained} of {report.n} (answered at chance confidence); accuracy "
                      f"on the other {answered.n}: {answered.accuracy:.1%} ({answered.correct}/{answered.n})",
                      soft_wrap=True)
    if report.skipped:
        console.print(f"[yellow]skipped {len(report.skipped)} unreadable puzzle(s)[/] (not scored; "
                      "named in the warnings)", soft_wrap=True)
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
@click.option("--resume", is_flag=True,
              help="Continue the interrupted evaluation of --json-out from its .partial.jsonl (same "
                   "options): finished puzzles are kept, not solved again.")
def command(path, problems, images, solver_name, checkpoint, manifold, device, seed, distance, strict, population,
            generations, limit, json_out, figure, resume) -> None:
    """Solve every puzzle under PATH and report the accuracy with its 95% Wilson interval, overall
    and by family, program length, copies and object count. Unreadable puzzles are skipped with a
    warning (--strict: an error); finished results stream to JSON_OUT.partial.jsonl, and Ctrl-C or
    SIGTERM writes the report of what is done (exit 130 / 143; continue with --resume)."""
    for out in (json_out, figure):
        if out is not None:
            check_writable(out)  # before the run, not after it
    log = partial_log(json_out, resume)
    puzzle_set = load_set(path, problems, images, limit)
    if not puzzle_set.entries and not puzzle_set.incomplete:
        raise NarError("no puzzles found", path or problems)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from nar_solver.distributed import DistContext  # torch from here on
    from nar_solver.evaluate.puzzle_run import evaluate_set
    from nar_solver.evaluate.resumable import conclude, incomplete_skips
    from nar_solver.evaluate.sharded import rank_device, shard_indices
    from nar_solver.solve.registry import make_solver

    skips = incomplete_skips(puzzle_set.incomplete, strict)
    settings = settings_from(checkpoint, manifold, rank_device(device), seed, distance, population, generations)
    solver = make_solver(solver_name, settings)
    manifold_obj = checked_manifold(solver, strict)  # fail fast on a bad checkpoint, before the progress bar
    report_settings = {"solver": solver_name, **settings.to_json(),
                       "checkpoint": None if manifold_obj is None or manifold_obj.source is None
                       else str(manifold_obj.source)}
    main_rank = DistContext.from_env().is_main  # under torchrun: rank 0 shows progress, prints and writes
    if main_rank:
        for skip in skips:
            warn_skip(skip)
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    entries = puzzle_set.entries
    with Progress(*columns, console=console, transient=True, disable=not main_rank) as progress:
        task = progress.add_task(f"solving with {solver_name}", total=len(shard_indices(len(entries))))
        run = evaluate_set(entries, solver, log=log, header=run_header("evaluate", path, problems, report_settings),
                           resume=resume, strict=strict, skips=skips, warn=warn_skip,
                           progress=lambda _: progress.advance(task))
    report, interrupted, log = run.report, run.interrupted, run.log
    if not main_rank:
        return
    report.settings = report_settings
    conclude(report, interrupted, log, json_out)
    print_report(report, Console())
    if report.n == 0:
        Console().print("[yellow]no puzzle has a known answer: nothing to score[/]")
    if json_out is not None:
        click.echo(f"results: {json_out}")
    if interrupted is not None:
        done = len(report.results) + len(report.skipped)
        click.echo(f"warning: {interrupted}: report of the {done} of {len(entries) + len(skips)} puzzles done"
                   + ("" if log is None else f"; continue with --resume ({log.path} kept)"), err=True)
        click.get_current_context().exit(interrupted.exit_code)
    if figure is not None:
        from nar_solver.evaluate.figures import accuracy_figure

        accuracy_figure(report, figure)
        click.echo(f"figure: {figure}")
