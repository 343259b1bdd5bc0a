"""Calibration of the GA's confidence: fit a temperature on one generated set, measure on another.

    .venv/bin/python bench/calibration.py --manifold objects --fit-n 50 --n 100

Solves ``--fit-n`` puzzles per family drawn with seeds FIT_SEED + family index (never used by any
bench's measuring set) and fits, by temperature scaling (Guo et al. 2017;
nar_solver.evaluate.calibration.fit_temperature), the factor by which the softmax over the query's
option scores should be cooled. Then solves bench/solver_accuracy.py's puzzles (seeds 7_000_000 +
family index, ``--n`` per family) and reports, with the solver's confidence as it is and with the
fitted factor: the reliability table, the expected calibration error, and the sweep of thresholds
(coverage, accuracy, wrong share). An abstained answer keeps its chance confidence. The factor to
ship goes into nar_solver.solve.solver.CONFIDENCE_SCALES; this bench measures it with that table
emptied (raw) and applied (``--scale``, default: the fitted one).
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

from nar_solver.evaluate import calibration
from nar_solver.io import atomic_write_json
from nar_solver.solve import solver as solver_module
from nar_solver.solve.fitness import DISTANCES
from nar_solver.solve.ga import GAConfig
from nar_solver.solve.manifold import KINDS
from nar_solver.solve.registry import make_solver
from nar_solver.solve.solver import SolverSettings
from nar_solver.world.program import FAMILIES
from nar_solver.world.puzzle import generate_puzzles

SEED = 7_000_000      # bench/solver_accuracy.py's measuring puzzles
FIT_SEED = 9_100_000  # the fitting puzzles: disjoint from every measuring set
ROOT = Path(__file__).resolve().parents[1]


def solve_set(solver, seed: int, n: int, families, examples: int) -> list[dict]:
    rows = []
    for family in families:
        for p in generate_puzzles(seed + FAMILIES.index(family), n, family, n_examples=examples):
            s = solver.solve(p)
            rows.append({"id": str(p.id), "family": family, "scores": s.scores, "answer": int(p.query_answer),
                         "predicted": int(s.answer), "temperature": float(s.details.get("temperature", 1.0)),
                         "abstain": bool(s.abstain), "confidence": float(s.confidence),
                         "seconds": float(s.seconds)})
    return rows


def confidences(rows: list[dict], scale: float) -> np.ndarray:
    out = []
    for r in rows:
        if r["abstain"]:
            out.append(1.0 / len(r["scores"]))
        else:
            scores = np.asarray(r["scores"], dtype=np.float64)
            out.append(float(calibration.softmax_confidence(scores[None], r["temperature"] * scale)[0]))
    return np.asarray(out)


def summary(rows: list[dict], scale: float) -> dict:
    conf = confidences(rows, scale)
    right = [r["predicted"] == r["answer"] for r in rows]
    return {"scale": scale, "ece": calibration.expected_calibration_error(conf, right),
            "bins": [b.to_json() for b in calibration.reliability_table(conf, right)],
            "sweep": [s.to_json() for s in calibration.threshold_sweep(conf, right)]}


def show(name: str, s: dict) -> None:
    print(f"\n{name}: confidence temperature x{s['scale']:.3g}, ECE {s['ece']:.4f}")
    for b in s["bins"]:
        if b["n"]:
            print(f"  {b['low']:.1f}-{b['high']:.1f}  n={b['n']:<4} confidence {b['confidence']:.3f}  "
                  f"accuracy {b['accuracy']:.3f}")
    for r in s["sweep"]:
        print(f"  >= {r['threshold']:.2f}: coverage {r['coverage']:6.1%}  answered {r['answered']:<4} "
              f"accuracy {r['accuracy']:6.1%}  wrong {r['wrong']:.2%}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--manifold", choices=KINDS, default="objects")
    parser.add_argument("--distance", choices=DISTANCES, default="code")
    parser.add_argument("--ga", default="{}", help="JSON of further GAConfig fields")
    parser.add_argument("--fit-n", type=int, default=50, help="fitting puzzles per family")
    parser.add_argument("--n", type=int, default=100, help="measuring puzzles per family")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--examples", type=int, default=6)
    parser.add_argument("--scale", type=float, default=None, help="apply this factor instead of the fitted one")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    solver_module.CONFIDENCE_SCALES.clear()  # raw confidences: the factors are applied here
    families = [f for f in args.families.split(",") if f]
    ga = dataclasses.replace(GAConfig(), distance=args.distance, **json.loads(args.ga))
    solver = make_solver("ga", SolverSettings(checkpoint=args.checkpoint, manifold=args.manifold, device="cpu", ga=ga))
    start = time.perf_counter()
    fit_rows = solve_set(solver, FIT_SEED, args.fit_n, families, args.examples)
    kept = [r for r in fit_rows if not r["abstain"]]
    fitted = calibration.fit_temperature([r["scores"] for r in kept], [r["answer"] for r in kept],
                                         [r["temperature"] for r in kept])
    print(f"fitted on {len(kept)} answered puzzles (seed {FIT_SEED}, {args.fit_n} per family): "
          f"temperature x{fitted:.3g}")
    rows = solve_set(solver, SEED, args.n, families, args.examples)
    scale = fitted if args.scale is None else args.scale
    raw, calibrated = summary(rows, 1.0), summary(rows, scale)
    acc = np.mean([r["predicted"] == r["answer"] for r in rows])
    print(f"measured on {len(rows)} puzzles (seed {SEED}, {args.n} per family): accuracy {acc:.1%}, "
          f"{np.mean([r['seconds'] for r in rows]):.3f} s/puzzle")
    show("raw", raw)
    show("calibrated", calibrated)
    out = args.json_out or ROOT / "bench" / "results" / f"calibration_{args.manifold}_{args.distance}.json"
    atomic_write_json(out, {"manifold": args.manifold, "distance": args.distance, "ga": ga.to_json(),
                            "fit": {"seed": FIT_SEED, "n_per_family": args.fit_n, "scale": fitted,
                                    "answered": len(kept)},
                            "measure": {"seed": SEED, "n_per_family": args.n, "accuracy": float(acc)},
                            "raw": raw, "calibrated": calibrated, "rows": rows,
                            "seconds": time.perf_counter() - start})
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
