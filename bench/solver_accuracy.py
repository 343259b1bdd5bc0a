"""Solver accuracy per puzzle family: the GA and every baseline on generated test sets.

    .venv/bin/python bench/solver_accuracy.py                       # 200 puzzles per family
    .venv/bin/python bench/solver_accuracy.py --n 50 --solvers ga,latent-arithmetic
    .venv/bin/python bench/solver_accuracy.py --examples 3 --families mixed     # 3 examples
    .venv/bin/python bench/solver_accuracy.py --style varied                    # unseen glyph styles
    .venv/bin/python bench/solver_accuracy.py --shapes k,u,psi,w                # only these shapes

Test puzzles come from `generate_puzzles(SEED + family index, n, family)` with SEED = 7_000_000:
the training sources draw from (seed, rank, step) streams with small training seeds, so no test
puzzle is a training image. Prints accuracy with its 95% Wilson interval and seconds per puzzle per
(family, solver), then the GA's breakdown by program length, outs and object count; --json-out
writes everything. Torch runs on --threads CPU threads.

``--style varied`` redraws every puzzle in a glyph style of its own (each shape drawn once with
stroke, rotation, scale and shear variation, then used throughout the puzzle: `restyle`), so the
model meets glyph drawings it never saw; ``--shapes`` limits the puzzles to a subset of shapes (for
a model trained with ``--hold-out`` those shapes are unseen).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from nar_solver.evaluate.accuracy import evaluate
from nar_solver.io import atomic_write_json
from nar_solver.solve.fitness import DISTANCES
from nar_solver.solve.ga import GAConfig
from nar_solver.solve.manifold import DEFAULT_KIND, KINDS
from nar_solver.solve.registry import SOLVER_NAMES, make_solver
from nar_solver.solve.solver import SolverSettings
from nar_solver.world.program import FAMILIES
from nar_solver.world.glyphs import SHAPES
from nar_solver.world.puzzle import generate_puzzles, restyle

SEED = 7_000_000
#: Seeds of the glyph styles of --style varied (one generator per puzzle).
STYLE_SEED = 8_000_000


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default=None, help="model run folder (default: the shipped one)")
    parser.add_argument("--manifold", choices=KINDS, default=DEFAULT_KIND)
    parser.add_argument("--n", type=int, default=200, help="puzzles per family")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--solvers", default=",".join(SOLVER_NAMES))
    parser.add_argument("--population", type=int, default=None)
    parser.add_argument("--generations", type=int, default=None)
    parser.add_argument("--distance", choices=DISTANCES, default=None)
    parser.add_argument("--ga", default="{}", help="JSON of further GAConfig fields")
    parser.add_argument("--seed", type=int, default=0, help="solver seed")
    parser.add_argument("--examples", type=int, default=6, help="examples per puzzle")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="shapes the puzzles use")
    parser.add_argument("--style", choices=("plain", "varied"), default="plain", help="glyph drawing")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    overrides = {k: v for k, v in (("population", args.population), ("generations", args.generations),
                                   ("distance", args.distance)) if v is not None}
    ga = dataclasses.replace(GAConfig(), **overrides, **json.loads(args.ga))
    settings = SolverSettings(checkpoint=args.checkpoint, manifold=args.manifold, seed=args.seed, ga=ga)
    families = [f for f in args.families.split(",") if f]
    solvers = [s for s in args.solvers.split(",") if s]
    manifold = None
    if any(make_solver(s, settings).needs_model for s in solvers):
        manifold = make_solver("ga", settings).manifold
        print(f"model: {args.checkpoint or 'shipped'} ({args.manifold}), searchable dims {manifold.dims}")
    print(f"GA: {json.dumps(ga.to_json())}")
    shapes = tuple(s for s in args.shapes.split(",") if s)
    unknown = sorted(set(shapes) - set(SHAPES))
    if unknown or not shapes:
        parser.error(f"--shapes: unknown shape(s) {', '.join(unknown)}; known: {', '.join(SHAPES)}")
    out: dict = {"settings": settings.to_json(), "n": args.n, "seed": SEED, "examples": args.examples,
                 "shapes": list(shapes), "style": args.style, "families": {}}
    for index, family in enumerate(families):
        start = time.perf_counter()
        puzzles = list(generate_puzzles(SEED + index, args.n, family, n_examples=args.examples, shapes=shapes))
        if args.style == "varied":
            puzzles = [restyle(p, np.random.default_rng([STYLE_SEED, index, i])) for i, p in enumerate(puzzles)]
        print(f"\n{family}: {len(puzzles)} puzzles (generated in {time.perf_counter() - start:.1f} s)")
        out["families"][family] = {}
        for name in solvers:
            report = evaluate(puzzles, make_solver(name, settings, manifold))
            low, high = report.interval
            print(f"  {name:<18} {report.accuracy:6.1%}  [{low:.1%}, {high:.1%}]  "
                  f"{report.seconds_per_puzzle:.3f} s/puzzle", flush=True)
            out["families"][family][name] = {
                "accuracy": report.accuracy, "low": low, "high": high, "n": report.n,
                "seconds_per_puzzle": report.seconds_per_puzzle, "per_category": report.per_category()}
            if name == "ga":
                for category in ("length", "outs", "objects"):
                    cells = report.per_category().get(category, {})
                    print(f"      by {category:<8}" + "  ".join(
                        f"{value}: {t['accuracy']:.0%} (n={t['n']})" for value, t in cells.items()))
    if args.json_out is not None:
        atomic_write_json(args.json_out, out)
        print(f"\nwrote {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
