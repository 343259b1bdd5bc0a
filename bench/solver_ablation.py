"""What each part of the GA solver contributes: one setting changed at a time, same puzzles.

    .venv/bin/python bench/solver_ablation.py                      # design table, 200 per family
    .venv/bin/python bench/solver_ablation.py --table distances --n 40

Tables:
- ``design``: the default against no data-driven seeds, no evolution (generations 0: the best
  seed), no match pull, other temperatures, quantile normalisation, and latent arithmetic. (An
  Occam penalty and a 5-member ensemble were measured too and cost accuracy: docs/solver.md; their
  options were removed in issue 20.)
- ``distances``: code-set distance against decoded-pixel MSE / BCE / SSIM (population 16,
  10 generations for all four, since pixel distances decode every chromosome).
- ``manifolds``: objects-xy / objects / board, each with and without the match pull.

Puzzles: ``generate_puzzles(5_000_000 + family index, n, family)`` (not the bench/solver_accuracy
seeds, so settings are not chosen on the reported test set).
"""
from __future__ import annotations

import argparse
import json
import sys

import torch

from nar_solver.evaluate.accuracy import evaluate
from nar_solver.solve.ga import GAConfig
from nar_solver.solve.manifold import load_manifold
from nar_solver.solve.registry import make_solver
from nar_solver.solve.solver import SolverSettings
from nar_solver.world.puzzle import generate_puzzles

SEED = 5_000_000
TABLES = {
    "design": {
        "default": {},
        "no seeds": {"starts": 0},
        "generations 0 (best seed)": {"generations": 0},
        "no match pull": {"match_weight": 0.0},
        "temperature 0.01": {"temperature": 0.01},
        "temperature 0.2": {"temperature": 0.2},
        "quantile normalisation": {"norm": "quantile"},
        "latent arithmetic": {"solver": "latent-arithmetic"},
    },
    "distances": {
        "code": {"population": 16, "generations": 10},
        "pixel-mse": {"population": 16, "generations": 10, "distance": "pixel-mse"},
        "pixel-bce": {"population": 16, "generations": 10, "distance": "pixel-bce"},
        "ssim": {"population": 16, "generations": 10, "distance": "ssim"},
    },
    "manifolds": {
        "objects-xy": {},
        "objects-xy, no match pull": {"match_weight": 0.0},
        "objects": {"kind": "objects"},
        "objects, match pull 0.3": {"kind": "objects", "match_weight": 0.3},
        "board": {"kind": "board"},
        "board, match pull 0.3": {"kind": "board", "match_weight": 0.3},
    },
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", choices=sorted(TABLES), default="design")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--families", default="shift1,shift,shape,mixed")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    families = [f for f in args.families.split(",") if f]
    puzzles = {f: list(generate_puzzles(SEED + i, args.n, f)) for i, f in enumerate(families)}
    manifolds = {}
    print(f"{'setting':<28}" + "".join(f"{f:>18}" for f in families))
    for name, change in TABLES[args.table].items():
        change = dict(change)
        kind, norm = change.pop("kind", "objects-xy"), change.pop("norm", "range")
        solver_name = change.pop("solver", "ga")
        if (kind, norm) not in manifolds:
            manifolds[kind, norm] = load_manifold(None, kind=kind, normalisation=norm)
        solver = make_solver(solver_name, SolverSettings(manifold=kind, ga=GAConfig(**change)),
                             manifolds[kind, norm])
        cells = []
        for family in families:
            report = evaluate(puzzles[family], solver)
            cells.append(f"{report.accuracy:7.1%} {report.seconds_per_puzzle:6.3f}s")
        print(f"{name:<28}" + "".join(f"{c:>18}" for c in cells), flush=True)
    print(f"\n(n = {args.n} per family; accuracy and seconds per puzzle; settings: {json.dumps(args.table)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
