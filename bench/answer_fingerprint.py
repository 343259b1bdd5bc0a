"""A fingerprint of the solver's answers, to show that a refactoring changed no behaviour.

    PYTHONPATH=$PWD .venv/bin/python bench/answer_fingerprint.py            # 200 mixed puzzles, seed 0
    PYTHONPATH=$PWD .venv/bin/python bench/answer_fingerprint.py --n 300 --family shift

Writes ``--n`` puzzles with ``nar-solver generate`` (fixed --seed) into a temporary folder, solves
them with ``nar-solver evaluate`` (the shipped model, default GA settings, fixed --seed, CPU, one
thread), and prints two SHA-256 digests over the rows sorted by puzzle id: one over (id, chosen
option, right option), one that also holds each option's score rounded to 6 decimals. Run it
before and after a change: equal digests mean equal answers. The chosen option is read from
either spelling of the rows (``predicted``/``answer`` before issue 20, ``answer``/``correct_answer``
after), so the digest compares across that rename.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def chosen_and_right(row: dict) -> tuple[int, int | None]:
    """(chosen option, right option) of an evaluate row, in either field spelling."""
    if "correct_answer" in row:
        return row["answer"], row["correct_answer"]
    return row["predicted"], row["answer"]


def digests(rows: list[dict]) -> tuple[str, str, int]:
    answers, scored, correct = hashlib.sha256(), hashlib.sha256(), 0
    for row in sorted(rows, key=lambda r: r["id"]):
        chosen, right = chosen_and_right(row)
        line = f"{row['id']}\t{chosen}\t{right}\n"
        answers.update(line.encode())
        scored.update((line + ",".join(f"{s:.6f}" for s in row["scores"]) + "\n").encode())
        correct += chosen == right
    return answers.hexdigest(), scored.hexdigest(), correct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--family", default="mixed")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cli = [sys.executable, "-m", "nar_solver"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        puzzles, out = Path(tmp) / "puzzles", Path(tmp) / "results.json"
        subprocess.run(cli + ["generate", str(puzzles), "--count", str(args.n), "--family", args.family,
                              "--seed", str(args.seed)], check=True, env=env, capture_output=True)
        start = time.perf_counter()
        subprocess.run(cli + ["evaluate", str(puzzles), "--seed", str(args.seed), "--device", "cpu",
                              "--json-out", str(out)], check=True, env=env, capture_output=True)
        seconds = time.perf_counter() - start
        rows = json.loads(out.read_text())["results"]
    answers, scored, correct = digests(rows)
    print(f"{len(rows)} puzzles ({args.family}, seed {args.seed}), {correct} right, evaluate {seconds:.0f} s")
    print(f"answers sha256: {answers}")
    print(f"answers+scores sha256: {scored}")


if __name__ == "__main__":
    main()
