"""`nar-solver plot RUN`: redraw a run folder's figures (loss curves, reconstructions, traversals)."""
from __future__ import annotations

from pathlib import Path

import click

from nar_solver.cli._options import device_option, threads_option
from nar_solver.cli._outputs import default_folder


@click.command("plot")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for the figures  [default: runs/plot-<RUN name>/; never RUN itself, so "
                   "the shipped models stay as committed]")
@device_option
@threads_option
def command(run: Path, out: Path | None, device: str, threads: int) -> None:
    """Draw RUN's losses.png, reconstructions.png and traversal.png (rows sorted by KL, dead
    dimensions marked; docs/training.md) into --out."""
    from nar_solver.device import resolve_device, set_cpu_threads
    from nar_solver.train.report import plot_run

    set_cpu_threads(threads)
    out = out or default_folder("plot", run)
    for path in plot_run(run, resolve_device(device), out):
        click.echo(f"wrote {path}")
