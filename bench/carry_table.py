"""What carries what: every manifold with the shipped model and with an untrained one, and the
pixel baseline, on the same puzzle sets.

    .venv/bin/python bench/carry_table.py --n 100                     # 100 puzzles per family
    .venv/bin/python bench/carry_table.py --n 20 --kinds objects --distance pixel-bce

For each manifold kind (objects-xy, objects, board) the GA solves the puzzles twice: with the
shipped model of that kind (solve.manifold.SHIPPED_PRESET) and with a model of the same preset
(same architecture and data) trained for only ``--untrained-steps`` steps (20: its decodings are
the mean image, it has learnt next to nothing). The row ``pixel`` is the pixel-analogy baseline,
which has no model at all. The gap between a kind's shipped and untrained rows is the share of its
accuracy that the Factor-VAE carries; what the untrained row keeps comes from perception (the
cells of objects-xy) and the search. The puzzles are those of bench/solver_accuracy.py
(``generate_puzzles(7_000_000 + family index, n, family)``). Writes JSON and a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from nar_solver.evaluate.accuracy import evaluate
from nar_solver.io import atomic_write_json
from nar_solver.run.config import TrainConfig
from nar_solver.run.shipped import shipped_model
from nar_solver.solve.fitness import DISTANCES
from nar_solver.solve.ga import GAConfig
from nar_solver.solve.manifold import KINDS, SHIPPED_PRESET
from nar_solver.solve.registry import make_solver
from nar_solver.solve.solver import SolverSettings
from nar_solver.train import train
from nar_solver.world.program import FAMILIES
from nar_solver.world.puzzle import generate_puzzles

SEED = 7_000_000  # bench/solver_accuracy.py's test puzzles
ROOT = Path(__file__).resolve().parents[1]


def untrained_model(kind: str, out_root: Path, steps: int = 20, **overrides) -> Path:
    """A model of ``kind``'s shipped preset trained for ``steps`` steps on one CPU thread (reused
    when ``out_root`` already holds one of that many steps). ``overrides`` change config fields
    (the tests shrink the discriminator and the batch)."""
    preset = SHIPPED_PRESET[kind]
    out = Path(out_root) / f"{preset}-{steps}"
    config_file = out / "config.json"
    if config_file.exists() and json.loads(config_file.read_text()).get("steps") == steps and \
            (out / "model.safetensors").exists():
        return out
    config = TrainConfig.from_preset(preset, steps=steps, threads=1, device="cpu", save_every=steps,
                                     log_every=1, **overrides)
    return train(config, out, progress=False, figures=False)


def family_puzzles(family: str, n: int, examples: int = 6) -> list:
    return list(generate_puzzles(SEED + FAMILIES.index(family), n, family, n_examples=examples))


def carry_rows(kinds, families, n: int, untrained_root: Path, steps: int = 20, distance: str = "code",
               examples: int = 6, train_overrides: dict | None = None, log=print) -> list[dict]:
    """One row per (kind, model) and one for the pixel baseline: accuracy per family and overall."""
    sets = {f: family_puzzles(f, n, examples) for f in families}
    ga = GAConfig(distance=distance)
    runs: list[tuple[str, str, str | None, Path | None]] = []
    for kind in kinds:
        runs.append((kind, "shipped", "ga", shipped_model(SHIPPED_PRESET[kind], kind)))
        runs.append((kind, f"untrained ({steps} steps)", "ga",
                     untrained_model(kind, untrained_root, steps, **(train_overrides or {}))))
    runs.append(("-", "no model", "pixel", None))
    rows = []
    for kind, model, solver_name, checkpoint in runs:
        settings = SolverSettings(checkpoint=checkpoint, manifold=kind if kind != "-" else "objects-xy",
                                  device="cpu", ga=ga)
        solver = make_solver(solver_name, settings)
        row = {"manifold": kind, "model": model, "solver": solver_name,
               "checkpoint": None if checkpoint is None else str(checkpoint), "families": {}}
        right = total = 0
        seconds = []
        for family, puzzles in sets.items():
            report = evaluate(puzzles, solver)
            row["families"][family] = {"accuracy": report.accuracy, "n": report.n,
                                       "seconds_per_puzzle": report.seconds_per_puzzle}
            right += report.correct
            total += report.n
            seconds.append(report.seconds_per_puzzle)
        row["overall"] = right / total if total else 0.0
        row["seconds_per_puzzle"] = float(np.mean(seconds)) if seconds else 0.0
        log(f"{kind:<11} {model:<22} {solver_name:<6} " + "  ".join(
            f"{f} {v['accuracy']:6.1%}" for f, v in row["families"].items()) + f"  all {row['overall']:6.1%}"
            f"  {row['seconds_per_puzzle']:.3f} s/puzzle", flush=True)
        rows.append(row)
    return rows


def markdown(rows: list[dict], families, n: int, distance: str) -> str:
    head = "| manifold | model | solver | " + " | ".join(families) + " | all | VAE's share |"
    lines = [f"GA distance `{distance}`, {n} puzzles per family (bench/carry_table.py).", "", head,
             "|" + "---|" * (len(families) + 5)]
    untrained = {r["manifold"]: r["overall"] for r in rows if r["model"].startswith("untrained")}
    for r in rows:
        share = ""
        if r["model"] == "shipped" and r["manifold"] in untrained:
            share = f"{(r['overall'] - untrained[r['manifold']]) * 100:+.1f} pts"
        cells = " | ".join(f"{r['families'][f]['accuracy']:.1%}" for f in families)
        lines.append(f"| {r['manifold']} | {r['model']} | {r['solver']} | {cells} | {r['overall']:.1%} | {share} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100, help="puzzles per family")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--kinds", default=",".join(KINDS), help="manifold kinds")
    parser.add_argument("--distance", choices=DISTANCES, default="code")
    parser.add_argument("--examples", type=int, default=6)
    parser.add_argument("--untrained-steps", type=int, default=20)
    parser.add_argument("--untrained-dir", type=Path, default=Path("/tmp/nar-untrained"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "carry_table")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    families = [f for f in args.families.split(",") if f]
    kinds = [k for k in args.kinds.split(",") if k]
    start = time.perf_counter()
    rows = carry_rows(kinds, families, args.n, args.untrained_dir, args.untrained_steps, args.distance,
                      args.examples)
    table = markdown(rows, families, args.n, args.distance)
    print("\n" + table)
    atomic_write_json(args.out.with_suffix(".json"), {"n": args.n, "distance": args.distance, "examples":
                                                      args.examples, "seed": SEED, "rows": rows,
                                                      "seconds": time.perf_counter() - start})
    args.out.with_suffix(".md").write_text(table)
    print(f"wrote {args.out.with_suffix('.json')} and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
