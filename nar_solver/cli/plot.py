"""`nar-solver plot RUN`: redraw a run folder's figures (loss curves, reconstructions, traversals)."""
from __future__ import annotations

from pathlib import Path

import click


@click.command("plot")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--device", default="auto", show_default=True,
              help="auto | cpu | cuda | cuda:N (auto = CUDA when available).")
def command(run: Path, device: str) -> None:
    """Write RUN/figures/losses.png, reconstructions.png and traversal.png."""
    from rich.console import Console

    from nar_solver.device import resolve_device
    from nar_solver.train.report import plot_run

    for path in plot_run(run, resolve_device(device)):
        Console().print(f"wrote {path}")
