"""Puzzle generation speed and distractor leakage, per family.

    .venv/bin/python bench/world_generate.py [--count 500] [--seed 2024]

Prints, for each family: milliseconds per generated puzzle (in memory, one core), the share of
puzzles with more than one `out`, and the accuracy of two option-only heuristics (chance is 25%):
"closest in pixels to the other three options" and "closest to the input", on the queries and on
the examples' option sets.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from nar_solver.world.program import FAMILIES, count_outs
from nar_solver.world.puzzle import generate_puzzles


def heuristic_scores(option_sets) -> tuple[float, float]:
    consensus = nearest = 0
    for image, options, answer in option_sets:
        flat = options.reshape(len(options), -1).astype(np.int32)
        consensus += int(np.argmin(np.abs(flat[:, None] - flat[None]).sum(-1).sum(1)) == answer)
        nearest += int(np.argmin(np.abs(flat - image.reshape(1, -1).astype(np.int32)).sum(1)) == answer)
    return consensus / len(option_sets), nearest / len(option_sets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    print(f"{'family':8s} {'ms/puzzle':>9s} {'branched':>8s} {'query: others':>13s} {'input':>6s}"
          f" {'examples: others':>16s} {'input':>6s}")
    for family in FAMILIES:
        start = time.perf_counter()
        puzzles = list(generate_puzzles(args.seed, args.count, family))
        ms = (time.perf_counter() - start) / args.count * 1000
        branched = np.mean([count_outs(p.program) > 1 for p in puzzles])
        q = heuristic_scores([(p.query, p.query_options, p.query_answer) for p in puzzles])
        e = heuristic_scores([(x.input, x.options, x.answer) for p in puzzles for x in p.examples])
        print(f"{family:8s} {ms:9.2f} {branched:8.0%} {q[0]:13.1%} {q[1]:6.1%} {e[0]:16.1%} {e[1]:6.1%}")


if __name__ == "__main__":
    main()
