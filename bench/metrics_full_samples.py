"""The `full` metric protocol's sample sizes where they fit on a CPU, with each phase's time.

    python bench/metrics_full_samples.py checkpoints/objects-broadcast --data objects \
        --json-out runs/metrics-full-samples/objects-broadcast-objects.json

MIG, DCI (10,000 / 5,000, 100 trees), SAP, Modularity, Explicitness and the unsupervised scores
run at the `full` preset's sizes; the FactorVAE and beta-VAE votes and SIS at `standard` sizes,
because their `full` sizes encode about 2.9 million images (docs/metrics.md, presets). The report's
preset reads "full samples, standard votes", so it is never mistaken for a `full` one. The phase
times give the rates from which the `full` preset's time on this machine can be estimated.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from nar_solver.metrics.runner import DisentanglementSettings, evaluate_checkpoint
from nar_solver.io import atomic_write_json

PRESET_NAME = "full samples, standard votes"


def full_samples_settings() -> DisentanglementSettings:
    """`full` sizes for the sample-based metrics, `standard` sizes for the vote- and pair-based ones."""
    full, standard = DisentanglementSettings.full(), DisentanglementSettings.standard()
    return dataclasses.replace(full, factorvae=standard.factorvae, betavae=standard.betavae,
                               intervention=standard.intervention, name=PRESET_NAME)


def phase_logger():
    """A progress callback that prints the time since the start and since the previous phase."""
    start = last = time.perf_counter()

    def log(message: str) -> None:
        nonlocal last
        now = time.perf_counter()
        print(f"{now - start:7.1f} s (+{now - last:6.1f} s) {message}", flush=True)
        last = now

    return log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--data", default="objects", choices=("objects", "dsprites"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json-out", type=Path, required=True)
    args = parser.parse_args(argv)
    log = phase_logger()
    report = evaluate_checkpoint(args.run, data=args.data, seed=args.seed, settings=full_samples_settings(),
                                 device=args.device, progress=log)
    log("done")
    report.run["preset"] = PRESET_NAME
    atomic_write_json(args.json_out, report.to_json())
    print(json.dumps({key: round(value, 3) for key, value in report.summary().items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
