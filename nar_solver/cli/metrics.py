"""`nar-solver metrics RUN`: disentanglement of a trained model against ground-truth factors."""
from __future__ import annotations

from pathlib import Path

import click

from nar_solver.cli._choices import DEVICE_CHOICES, MAX_SEED, WORLD_NAMES
from nar_solver.cli._outputs import default_folder
from nar_solver.io import atomic_write_json, check_writable


def _summary_table(report):
    from rich.table import Table

    fvae, dci, sis, bvae = report.factorvae, report.dci, report.intervention, report.betavae
    unsupervised = report.unsupervised
    table = Table(title=f"Disentanglement on {report.world} ({report.preset} preset, z = {report.code_dim}, "
                        f"seed {report.seed})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("notes")
    table.add_row("FactorVAE score", f"{fvae.score:.3f}",
                  f"chance {fvae.chance:.2f}; train votes {fvae.train_accuracy:.3f}; "
                  f"{len(fvae.active_dims)} active dims")
    table.add_row("beta-VAE score", f"{bvae.score:.3f}", f"chance {bvae.chance:.2f}; train {bvae.train_accuracy:.3f}")
    table.add_row("MIG", f"{report.mig.score:.3f}", f"{report.settings['mig']['bins']} bins")
    table.add_row("SAP", f"{report.sap.score:.3f}", "gap of the two best single dimensions")
    table.add_row("DCI disentanglement", f"{dci.disentanglement:.3f}", "gradient-boosted trees")
    table.add_row("DCI completeness", f"{dci.completeness:.3f}", "")
    table.add_row("DCI informativeness", f"{dci.informativeness:.3f}", "mean test accuracy")
    table.add_row("Modularity", f"{report.modularity.modularity:.3f}", "Ridgeway & Mozer")
    table.add_row("Explicitness", f"{report.modularity.explicitness:.3f}", "mean one-vs-rest ROC AUC")
    table.add_row("SIS (Sobol intervention)", f"{sis.score:.3f}", "mean of concentration x stillness")
    table.add_row("Gaussian total correlation", f"{unsupervised.gaussian_total_correlation:.3f}",
                  "nats, lower = more independent")
    table.add_row("Mutual information score", f"{unsupervised.mutual_info_score:.3f}",
                  "nats, mean MI between dimensions; lower = more independent")
    return table


def _cell(value: float) -> str:
    """Three decimals, or "-" for a factor the metric cannot score (NaN)."""
    return "-" if value != value else f"{value:.3f}"


def _factor_table(report):
    from rich.table import Table

    sis = report.intervention
    table = Table(title="Per factor")
    for name in ("factor", "values", "MIG gap", "SAP gap", "DCI test acc", "explicit.", "SIS dim",
                 "concentration", "stillness"):
        table.add_column(name, justify="left" if name == "factor" else "right")
    for k, name in enumerate(report.factor_names):
        table.add_row(
            name,
            str(report.factor_sizes[k]),
            _cell(report.mig.per_factor[k]),
            _cell(report.sap.per_factor[k]),
            f"{report.dci.test_accuracy[k]:.3f}",
            _cell(report.modularity.explicitness_per_factor[k]),
            "-" if sis.dimension[k] < 0 else f"z{sis.dimension[k]}",
            f"{sis.concentration[k]:.3f}",
            f"{sis.stillness[k]:.3f}",
        )
    return table


@click.command(name="metrics")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--data", type=click.Choice(WORLD_NAMES), default=None,
              help="Factor world to measure on (default: the run's training data if it is one of "
                   "these, else objects).")
@click.option("--preset", type=click.Choice(("full", "standard", "fast")), default=None,
              help="Sample sizes: full (the reference protocol, ~3x10^6 images), standard (a tenth of "
                   "the votes), fast (seconds: smoke tests only). Default: full. Printed in the table "
                   "title and written to the report.")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
              help="Seeds python, numpy and torch; the same seed gives the same numbers.")
@click.option("--device", type=str, default="auto", show_default=True,
              help=f"{' | '.join(DEVICE_CHOICES)} | cuda:N (auto = CUDA when available).")
@click.option("--json-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the full report  [default: runs/metrics-<RUN name>/metrics-<data>[-<preset>].json; "
                   "never RUN itself]")
def command(run: Path, data: str | None, preset: str | None, seed: int, device: str,
            json_out: Path | None) -> None:
    """Measure a trained run's disentanglement against the ground-truth factors of procedural
    dSprites or of single NAR objects: FactorVAE and beta-VAE scores, MIG, SAP, DCI, Modularity,
    Explicitness and the Sobol intervention score (SIS), each in [0, 1], plus the unsupervised
    Gaussian total correlation and mutual information score (nats, lower is better)."""
    name = preset or "full"
    if json_out is not None:
        check_writable(json_out)  # before the measurement, not after it
    from rich.console import Console

    from nar_solver.metrics.runner import DisentanglementSettings, evaluate_checkpoint  # torch

    console = Console(stderr=True)
    with console.status("measuring") as status:
        report = evaluate_checkpoint(run, data=data, seed=seed, settings=DisentanglementSettings.preset(name),
                                     device=device, progress=lambda message: status.update(message))
    report.run["preset"] = name
    out = json_out or default_folder("metrics", run) / f"metrics-{report.world}{'' if name == 'full' else '-' + name}.json"
    atomic_write_json(out, report.to_json())
    stdout = Console()
    stdout.print(_summary_table(report))
    stdout.print(_factor_table(report))
    stdout.print(f"{report.seconds:.1f} s; report written to {out}")
