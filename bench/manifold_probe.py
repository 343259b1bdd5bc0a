"""The manifold probe (docs/probe.md) of one or more object models, side by side, into bench/results/.

    .venv/bin/python bench/manifold_probe.py checkpoints/objects=objects_old runs/new-objects=objects_new

Each RUN[=NAME] is probed exactly as `nar-solver probe RUN` does (the same library call and
tables); its report goes to bench/results/probe_<NAME>.json, its tables to probe_<NAME>.txt and its
figures to probe_<NAME>.png / probe_<NAME>_reconstructions.png. With more than one run, the
headline scores are printed side by side as well (and written to probe_compare.txt).

The old object model, as reported in docs/probe.md:

    .venv/bin/python bench/manifold_probe.py checkpoints/objects=objects_old
    .venv/bin/python bench/manifold_probe.py checkpoints/objects=objects_old_quantile \
        --normalisation quantile --no-figures
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from nar_solver.cli.probe import dimension_table, score_table
from nar_solver.probe.measures import TARGETS
from nar_solver.probe.run import ProbeSettings, probe_checkpoint, save_probe

RESULTS = Path(__file__).resolve().parent / "results"


def _compare(reports: dict[str, dict]) -> Table:
    table = Table(title="Manifold probe, side by side")
    table.add_column("measure")
    table.add_column("target", justify="right")
    for name in reports:
        table.add_column(name, justify="right")
    for key, target in TARGETS.items():
        table.add_row(key, f">= {target:g}", *(f"{data['scores'][key]:.3f}" for data in reports.values()))
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="RUN or RUN=NAME")
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--normalisation", choices=("range", "quantile"), default="range")
    parser.add_argument("--no-figures", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    reports = {}
    for item in args.runs:
        run, _, name = item.partition("=")
        name = name or Path(run).resolve().name
        settings = ProbeSettings(samples=args.samples, seed=args.seed, normalisation=args.normalisation)
        report = probe_checkpoint(run, settings)
        save_probe(report, args.out, stem=f"probe_{name}", figures=not args.no_figures)
        data = report.to_dict()
        console = Console(record=True, width=120)
        console.print(score_table(data))
        console.print(dimension_table(data))
        console.print(f"normalisation {args.normalisation}; samples {args.samples}; seed {args.seed}")
        (args.out / f"probe_{name}.txt").write_text(console.export_text())
        reports[name] = data
    if len(reports) > 1:
        console = Console(record=True, width=120)
        console.print(_compare(reports))
        (args.out / "probe_compare.txt").write_text(console.export_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
