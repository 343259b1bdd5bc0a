"""`nar-solver probe RUN`: how good an object model's latent manifold is (docs/probe.md)."""
from __future__ import annotations

from pathlib import Path

import click

from nar_solver.cli._choices import PROBE_MAX_SAMPLES as MAX_SAMPLES
from nar_solver.cli._choices import PROBE_MAX_SWEEP as MAX_SWEEP
from nar_solver.cli._choices import MAX_SEED, NORMALISATIONS, SHAPES
from nar_solver.cli._options import device_option, threads_option


def _mark(ok: bool) -> str:
    return "[green]yes[/green]" if ok else "[red]no[/red]"


def score_table(data: dict):
    """The headline scores against their targets (data: ProbeReport.to_dict())."""
    from rich.table import Table

    run = data["run"]
    table = Table(title=f"Manifold probe of {run.get('path', '?')} (step {run.get('step', '?')}, "
                        f"z = {run.get('z_dim', '?')}, active {len(data['active_dims'])}, "
                        f"{data['settings']['normalisation']} coordinates)")
    for name in ("measure", "value", "target", "met", "detail"):
        table.add_column(name, justify="left" if name in ("measure", "detail") else "right")
    ident, axes, shift, sep = (data["reconstruction_identity"], data["axes"], data["shift_probe"],
                               data["shape_separation"])
    details = {
        "reconstruction_identity": f"shape right {ident['shape_accuracy']:.1%}, cell right {ident['cell_accuracy']:.1%}",
        "varied_identity": (f"{data['settings']['samples']} varied renders per shape and cell, against canonical "
                            f"glyphs at the same place; against the clean grid "
                            f"{data['varied_identity']['grid_accuracy']:.1%}"),
        "x_r2": f"z{axes['x']['dim']}; gaps {axes['x']['gaps'][0]:+.3f} {axes['x']['gaps'][1]:+.3f}, "
                f"ratio {axes['x']['gap_ratio']:.2f}, ordered {'yes' if axes['x']['ordered'] else 'no'}",
        "y_r2": f"z{axes['y']['dim']}; gaps {axes['y']['gaps'][0]:+.3f} {axes['y']['gaps'][1]:+.3f}, "
                f"ratio {axes['y']['gap_ratio']:.2f}, ordered {'yes' if axes['y']['ordered'] else 'no'}",
        "shift_probe": "  ".join(f"{k} {v:.2f}" for k, v in shift["per_move"].items()),
        "shape_separation": (f"worst {SHAPES[sep['worst']['shapes'][0]]}/{SHAPES[sep['worst']['shapes'][1]]} "
                             f"in cell ({sep['worst']['cell'][0]},{sep['worst']['cell'][1]}); "
                             f"nearest-mean {sep['nearest_mean']:.1%}"),
    }
    labels = {"reconstruction_identity": "(a) reconstruction identity",
              "varied_identity": "(a) identity, varied glyphs", "x_r2": "(b) x axis R^2",
              "y_r2": "(b) y axis R^2", "shift_probe": "(c) shift probe",
              "shape_separation": "(d) shape separation (ratio)"}
    for key, value in data["scores"].items():
        pct = key in ("reconstruction_identity", "varied_identity", "shift_probe")
        table.add_row(labels[key], f"{value:.1%}" if pct else f"{value:.3f}",
                      f">= {data['targets'][key]:.0%}" if pct else f">= {data['targets'][key]:.2f}",
                      _mark(data["passed"][key]), details[key])
    return table


def dimension_table(data: dict):
    """Per active dimension: the variance shares, the R^2 for x and y, and the factor it is named after."""
    from rich.table import Table

    shares, axes = data["variance_shares"], data["axes"]
    table = Table(title="Active dimensions (variance over the 180 clean codes)")
    for name in ("dim", "x share", "y share", "shape share", "rest", "R^2 x", "R^2 y", "name"):
        table.add_column(name, justify="right")
    for i, dim in enumerate(shares["dims"]):
        table.add_row(f"z{dim}", *(f"{shares[k][i]:.2f}" for k in ("x", "y", "shape", "rest")),
                      f"{axes['x']['r2_per_dim'][str(dim)]:.2f}", f"{axes['y']['r2_per_dim'][str(dim)]:.2f}",
                      data["dimension_factors"].get(str(dim), "-"))
    return table


@click.command("probe")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output folder (default runs/probe-<run folder name>: the run folder itself is never written by default).")
@click.option("--samples", type=click.IntRange(2, MAX_SAMPLES), default=16, show_default=True,
              help="Varied renders per (shape, cell) for shape separation.")
@click.option("--sweep", type=click.IntRange(2, MAX_SWEEP), default=21, show_default=True,
              help="Positions per axis of the latent-position figure's grid.")
@click.option("--sweep-shape", type=click.Choice(SHAPES), default="square", show_default=True,
              help="The shape moved over the board for that figure.")
@click.option("--normalisation", type=click.Choice(NORMALISATIONS), default="range", show_default=True,
              help="The solver's map of codes to [0, 1] (see docs/solver.md).")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
              help="Seeds the varied renders; the same seed gives the same numbers.")
@threads_option
@device_option
def command(run, out, samples, sweep, sweep_shape, normalisation, seed, threads, device):
    """Probe an object model: (a) reconstruction identity, (b) x and y axis quality, (c) the shift
    probe, (d) shape separation, (e) the latent-position figure. Writes probe.json, probe.png and
    probe_reconstructions.png."""
    from rich.console import Console

    from nar_solver.device import resolve_device, set_cpu_threads
    from nar_solver.probe.run import (ProbeSettings, default_out, output_paths, probe_checkpoint,
                                               save_probe)
    from nar_solver.cli._outputs import check_outputs, stop_cleanly

    set_cpu_threads(threads)
    out = Path(out) if out is not None else default_out(run)
    check_outputs(output_paths(out).values(), inputs=[run], folders=[out])  # fail before measuring, not after
    settings = ProbeSettings(samples=samples, sweep=sweep, sweep_shape=sweep_shape, seed=seed,
                             normalisation=normalisation)
    status_console = Console(stderr=True)
    with stop_cleanly(output_paths(out).values(), "the probe"):
        with status_console.status("probing") as status:
            report = probe_checkpoint(run, settings, resolve_device(device), progress=status.update)
        paths = save_probe(report, out)
    data = report.to_dict()
    console = Console()
    console.print(score_table(data))
    console.print(dimension_table(data))
    console.print(f"{report.seconds:.1f} s; wrote {', '.join(p.name for p in paths.values())} to {out}")
