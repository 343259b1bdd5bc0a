"""`nar-solver generate`: write a reproducible set of NAR puzzles to disk."""
from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Iterable, Iterator

import click

from nar_solver.cli._choices import (FAMILIES, FEWSHOT_IMAGES, FEWSHOT_JSON, GENERATE_MAX_COUNT, GENERATE_MAX_EXAMPLES,
                                     GENERATE_MAX_LENGTH, MAX_OBJECTS, MAX_SEED)
from nar_solver.errors import NarError


def _objects(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, int]:
    """Parse ``MIN-MAX`` or ``N``."""
    try:
        parts = [int(p) for p in value.split("-")] if value else []
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or not 1 <= parts[0] <= parts[1] <= MAX_OBJECTS:
        raise click.BadParameter(f"expected MIN-MAX with 1 <= MIN <= MAX <= {MAX_OBJECTS} (e.g. 1-3), got {value!r}")
    return parts[0], parts[1]


def _tracked(puzzles: Iterable, count: int, label: str) -> Iterator:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task(label, total=count)
        for puzzle in puzzles:
            yield puzzle
            progress.advance(task)


@click.command(name="generate")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--count", "-n", type=click.IntRange(1, GENERATE_MAX_COUNT), default=10, show_default=True,
              help="Number of puzzles.")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
              help="Random seed; the same seed writes byte-identical files.")
@click.option("--family", type=click.Choice(FAMILIES), default="mixed", show_default=True,
              help="Program family: shift1 (one shift), shift (1-3 shifts), shape (conversions and flip), "
                   "mixed (any primitives, some with out/clear branches).")
@click.option("--objects", default="1-3", show_default=True, callback=_objects, metavar="MIN-MAX",
              help="Objects per input board.")
@click.option("--length", type=click.IntRange(1, GENERATE_MAX_LENGTH), default=None,
              help="Primitives per program (default: drawn from the family's usual range).")
@click.option("--examples", "n_examples", type=click.IntRange(1, GENERATE_MAX_EXAMPLES), default=6, show_default=True,
              help="Examples per puzzle.")
@click.option("--format", "layout", type=click.Choice(("folders", "fewshot")), default="folders",
              show_default=True,
              help="folders: one puzzle folder per puzzle (puzzle.json + PNGs); "
                   f"fewshot: the published few-shot-nar layout ({FEWSHOT_JSON} + {FEWSHOT_IMAGES}/).")
def command(out: Path, count: int, seed: int, family: str, objects: tuple[int, int], length: int | None,
            n_examples: int, layout: str) -> None:
    """Generate COUNT puzzles of one program family into OUT (which must be empty or new)."""
    from nar_solver.cli._outputs import check_outputs
    from nar_solver.run.lock import lock_path, output_lock
    from nar_solver.world.program import DEFAULT_LENGTHS

    low, high = DEFAULT_LENGTHS[family]
    if family == "shift1" and length not in (None, 1):
        raise click.BadParameter("shift1 programs have exactly one primitive", param_hint="'--length'")
    _check_empty(out, lock_path(out, folder=True))
    check_outputs([], folders=[out])
    with output_lock(out, folder=True) as lock:  # a second generate into this folder is refused
        _check_empty(out, lock)  # again under the lock: another generate may have written here meanwhile
        written = _generate(out, count, seed, family, objects, length, n_examples, layout)
    click.echo(f"wrote {written} {family} puzzles ({layout}, seed {seed}, objects {objects[0]}-{objects[1]}, "
               f"length {length if length is not None else f'{low}-{high}'}) to {out}")


def _check_empty(out: Path, lock: Path) -> None:
    """Refuse an output folder that holds anything but our own lock file."""
    if out.is_dir() and any(child != lock for child in out.iterdir()):
        raise NarError("output folder is not empty; choose a new or empty folder", out)


def _generate(out: Path, count: int, seed: int, family: str, objects: tuple[int, int], length: int | None,
              n_examples: int, layout: str) -> int:
    from nar_solver.seeding import seed_everything
    from nar_solver.world.formats import write_fewshot, write_puzzle_folders
    from nar_solver.world.puzzle import generate_puzzles

    seed_everything(seed)
    puzzles = _tracked(
        generate_puzzles(seed, count, family, n_examples=n_examples, objects=objects, length=length),
        count, f"generating {family} puzzles")
    with closing(puzzles):  # on an error, close the progress bar before the error line is printed
        if layout == "folders":
            written = write_puzzle_folders(puzzles, out)
        else:
            written = write_fewshot(puzzles, out / FEWSHOT_JSON, out / FEWSHOT_IMAGES)
    return written
