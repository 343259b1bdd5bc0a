"""`nar-solver solve`: answer one puzzle and show why."""
from __future__ import annotations

import json
from pathlib import Path

import click

from nar_solver.cli._choices import SOLVER_NAMES
from nar_solver.cli._options import RenamingCommand
from nar_solver.cli._solver_options import (STRICT_SOLVE, checked_manifold, confidence_option, ga_options, model_options,
                                            settings_from)
from nar_solver.errors import PuzzleError
from nar_solver.cli._outputs import check_outputs


@click.command(name="solve", cls=RenamingCommand, renamed=STRICT_SOLVE)
@click.argument("puzzle", type=click.Path(path_type=Path))
@click.option("--solver", "solver_name", type=click.Choice(SOLVER_NAMES), default="ga", show_default=True,
              help="The GA, or a baseline (docs/solver.md).")
@model_options
@ga_options
@confidence_option
@click.option("--index", type=click.IntRange(min=0), default=None,
              help="Which puzzle to solve when PUZZLE holds several (a folder of puzzles, a few-shot-nar "
                   "set), counting from 0  [default: the only puzzle in PUZZLE]")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object instead of the table: answer, scores, confidence, the rule in "
                   "words, margins, GA logbook, seed, checkpoint, version (schema in docs/solver.md).")
@click.option("--figure", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a PNG: the examples with the rule's predictions and margins, the query, its "
                   "prediction, the right and the chosen option.")
def command(puzzle: Path, solver_name: str, checkpoint, manifold, device, seed, distance, strict_model, population,
            generations, min_confidence, index, as_json: bool, figure: Path | None) -> None:
    """Solve the puzzle in PUZZLE (a puzzle folder, or one of a set with --index) and show why:
    the option scores, the rule in words, how well it reproduces the examples."""
    check_outputs([figure], inputs=[puzzle, checkpoint])
    from nar_solver.world.puzzle_set import puzzle_set

    # only the chosen puzzle is read: another puzzle's bad image is not this one's problem
    entries = puzzle_set(puzzle).entries
    if index is not None:
        if index >= len(entries):
            raise PuzzleError(f"--index {index} is past the last puzzle ({len(entries)} found)", puzzle)
        chosen = entries[index].read()
    elif len(entries) == 1:
        chosen = entries[0].read()
    else:
        raise PuzzleError(f"holds {len(entries)} puzzles; pick one with --index, or use nar-solver evaluate",
                          puzzle)
    from nar_solver.solve.registry import make_solver  # torch: only now that there is a puzzle to solve
    from nar_solver.solve.report import solve_report

    settings = settings_from(checkpoint, manifold, device, seed, distance, population, generations,
                             min_confidence)
    solver = make_solver(solver_name, settings)
    checked_manifold(solver, strict_model)
    solution = solver.solve(chosen, with_images=figure is not None)
    rule = solver.explain(chosen, solution)
    if figure is not None:
        from nar_solver.solve.figures import solution_figure

        solution_figure(chosen, solution, figure)
    if as_json:
        click.echo(json.dumps(solve_report(chosen, solution, solver, rule)))
        return
    from rich.console import Console

    print_solution(chosen, solution, solver_name, rule, Console())
    if figure is not None:
        click.echo(f"figure: {figure}")


def print_solution(chosen, solution, solver_name: str, rule, console) -> None:
    """The option table, the answer, the rule in words, the examples' margins and the search."""
    from rich.table import Table

    table = Table(title=f"puzzle {chosen.id} - {solver_name}", title_justify="left")
    table.add_column("option", justify="right")
    table.add_column("score", justify="right")
    table.add_column("")
    for i, score in enumerate(solution.scores):
        marks = []
        if i == solution.answer:
            marks.append("[bold green]chosen[/]")
        if chosen.query_answer is not None and i == chosen.query_answer:
            marks.append("right answer")
        table.add_row(str(i), f"{score:.4f}", ", ".join(marks))
    console.print(table)
    verdict = ""
    if chosen.query_answer is not None:
        verdict = " [green](correct)[/]" if solution.answer == chosen.query_answer else " [red](wrong)[/]"
    console.print(f"answer: [bold]{solution.answer}[/]{verdict}   confidence: {solution.confidence:.2f}"
                  + ("   [yellow](abstained)[/]" if solution.abstain else ""))
    if solution.abstain:
        console.print(f"[yellow]warning:[/] abstaining: {solution.abstain_reason}; the answer is a guess "
                      "at chance confidence", highlight=False, soft_wrap=True)
    if rule:
        console.print("rule:")
        for slot in rule:
            console.print(f"  {slot.text}", markup=False, highlight=False, soft_wrap=True)
    if solution.examples_solved is not None:
        console.print(f"examples the rule reproduces: {solution.examples_solved}/{solution.n_examples}")
    margins = solution.details.get("margins")
    if margins is not None:
        console.print("example margins (right option's lead, in temperatures): "
                      + " ".join(f"{m:.1f}" for m in margins), highlight=False, soft_wrap=True)
    if "generations" in solution.details:
        early = (" (stopped early: every example won by the stop margin)" if solution.details.get("stopped_early")
                 else " (no early stop: ran every generation)")
        console.print(f"slots: {solution.details.get('slots')}   generations: {solution.details['generations']}{early}")
    console.print(f"seconds: {solution.seconds:.3f}")
    for note in solution.notes:
        console.print(f"[yellow]note:[/] {note}")
