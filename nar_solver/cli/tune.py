"""`nar-solver tune`: the GA's accuracy and time for each population x generations pair."""
from __future__ import annotations

from pathlib import Path

import click

from nar_solver.cli._choices import GA_MAX_GENERATIONS, GA_MAX_POPULATION, TUNE_MAX_REPEATS
from nar_solver.cli._console import stdout_console
from nar_solver.cli._outputs import default_folder
from nar_solver.cli._puzzle_runs import load_set, partial_log, run_header, warn_skip
from nar_solver.cli._options import RenamingCommand
from nar_solver.cli._solver_options import (MIN_POPULATION, STRICT_SET, checked_manifold, model_options, puzzle_set_options,
                                            settings_from, stop_on_unreadable_option)
from nar_solver.errors import NarError
from nar_solver.io import atomic_write_json, check_writable


@click.command(name="tune", cls=RenamingCommand, renamed={**STRICT_SET, "--plot": ("--figure",)})
@puzzle_set_options
@click.option("--population", "populations", default="16,32,64,128", show_default=True,
              help="Comma-separated population sizes.")
@click.option("--generations", "generation_list", default="10,25,50", show_default=True,
              help="Comma-separated generation counts.")
@model_options
@stop_on_unreadable_option
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N puzzles  [default: all]")
@click.option("--tolerance", type=click.FloatRange(0, 1), default=0.01, show_default=True,
              help="Recommend the fastest Pareto pair within this accuracy of the best.")
@click.option("--repeats", type=click.IntRange(1, TUNE_MAX_REPEATS), default=3, show_default=True,
              help="Time every setting this many times; the recommendation uses the median time.")
@click.option("--figure", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the accuracy-vs-time figure  [default: runs/tune-<PATH name>/tune.png]")
@click.option("--json-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write every point as JSON (written before the figure is drawn)  "
                   "[default: runs/tune-<PATH name>/tune.json]")
@click.option("--resume", is_flag=True,
              help="Continue the interrupted sweep of --json-out from its .partial.jsonl (same options): "
                   "finished points are kept, not measured again.")
def command(path, problems, images, populations, generation_list, checkpoint, manifold, device, seed, distance,
            strict_model, stop_on_unreadable, limit, tolerance, repeats, figure, json_out, resume) -> None:
    """Sweep population x generations of the GA on the puzzles under PATH: accuracy with its 95%
    interval and median time per puzzle for each pair, the Pareto front and a recommended default
    (docs/solver.md, "Population and generations"). Unreadable puzzles are skipped with a warning
    (--stop-on-unreadable: an error); finished points stream to JSON_OUT.partial.jsonl, and Ctrl-C or SIGTERM
    writes the report of the points done (exit 130 / 143; continue with --resume)."""
    folder = default_folder("tune", path or problems or "puzzles")
    figure = figure or folder / "tune.png"
    json_out = json_out or folder / "tune.json"
    for out in (figure, json_out):
        check_writable(out)  # before the sweep, not after it
    log = partial_log(json_out, resume)

    from nar_solver.evaluate.resumable import incomplete_skips, read_all  # torch from here on
    from nar_solver.evaluate.tuning import parse_int_list, tune
    from nar_solver.solve.solver import GASolver

    pops = parse_int_list(populations, "--population")
    gens = parse_int_list(generation_list, "--generations")
    if min(pops) < MIN_POPULATION:
        raise NarError(f"--population values must be at least {MIN_POPULATION} (the GA keeps 2 elite "
                       f"chromosomes and needs offspring), got {min(pops)}")
    if max(pops) > GA_MAX_POPULATION or max(gens) > GA_MAX_GENERATIONS:
        raise NarError(f"--population values must be at most {GA_MAX_POPULATION} and --generations at most "
                       f"{GA_MAX_GENERATIONS}, got {max(pops)} and {max(gens)}")
    puzzle_set = load_set(path, problems, images, limit)
    skipped = incomplete_skips(puzzle_set.incomplete, stop_on_unreadable)
    for skip in skipped:
        warn_skip(skip)
    puzzles, unreadable = read_all(puzzle_set.entries, stop_on_unreadable, warn_skip)
    skipped += unreadable
    if not puzzles:
        if skipped:
            raise NarError(f"none of the {len(skipped)} puzzles could be read; the first: {skipped[0].reason}")
        raise NarError("no puzzles found", path or problems)
    if not any(p.query_answer is not None for p in puzzles):
        raise NarError("no puzzle has a known answer: tuning needs labelled puzzles", path or problems)
    settings = settings_from(checkpoint, manifold, device, seed, distance)
    manifold_obj = checked_manifold(GASolver(settings), strict_model)
    checkpoint_name = None if manifold_obj.source is None else str(manifold_obj.source)
    header = run_header("tune", path, problems, {**settings.to_json(), "checkpoint": checkpoint_name,
                                                 "repeats": repeats, "puzzles": len(puzzles)})
    console = stdout_console()
    console.print(f"{len(puzzles)} puzzles, {len(pops) * len(gens)} settings")
    report = tune(puzzles, pops, gens, settings, manifold_obj, tolerance, repeats=repeats,
                  progress=lambda p: console.print(
                      f"  population {p.population:>4}  generations {p.generations:>4}: "
                      f"{p.accuracy:.1%}  {p.seconds_per_puzzle:.3f} s/puzzle (median of {len(p.timings)})"),
                  log=log, header=header, resume=resume)
    report.settings["checkpoint"] = checkpoint_name
    report.skipped = skipped
    if report.points:
        print_points(report, console)
    atomic_write_json(json_out, report.to_json())  # first: a failing figure must not lose the results
    click.echo(f"results: {json_out}")
    if report.interrupted is not None:
        click.echo(f"warning: {report.interrupted}: report of the {len(report.points)} of "
                   f"{len(pops) * len(gens)} settings done; continue with --resume ({log.path} kept)", err=True)
        click.get_current_context().exit(report.interrupted.exit_code)
    log.remove()
    from nar_solver.evaluate.figures import tuning_figure

    tuning_figure(report, figure)
    click.echo(f"figure: {figure}")


def print_points(report, console) -> None:
    """The table of every point, the Pareto front and the recommended default."""
    from rich.table import Table

    table = Table(title="GA settings", title_justify="left")
    for col in ("pop", "gens", "accuracy", "95% interval", "s/puzzle", "Pareto", ""):
        table.add_column(col, justify="right", no_wrap=True)
    for p in sorted(report.points, key=lambda p: (p.population, p.generations)):
        low, high = p.interval
        table.add_row(str(p.population), str(p.generations), f"{p.accuracy:.1%}", f"{low:.1%}-{high:.1%}",
                      f"{p.seconds_per_puzzle:.3f}", "yes" if p.pareto else "",
                      "[bold green]recommended[/]" if p.recommended else "")
    console.print(table)
    rec = report.recommended
    console.print("Pareto front: " + ", ".join(f"{p.population}x{p.generations}" for p in report.pareto))
    console.print(f"recommended default: --population {rec.population} --generations {rec.generations} "
                  f"({rec.accuracy:.1%}, {rec.seconds_per_puzzle:.3f} s/puzzle)"
                  + ("" if report.complete else " (of the settings done so far)"))
