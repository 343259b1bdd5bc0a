"""Solving speed per CPU thread count, with and without a competing process; evaluate under torchrun.

    .venv/bin/python bench/solve_threads.py                  # 25 puzzles per family, both parts
    .venv/bin/python bench/solve_threads.py --n 50 --skip-torchrun

Part 1: the GA at default settings (the shipped model, `nar-solver solve`'s defaults) on the test
sets of bench/solver_accuracy.py (generate_puzzles(7_000_000 + family index, n, family)), at 1
thread, 2 threads and torch's own default (every core), interleaved puzzle by puzzle (each puzzle
is solved once per setting, in turn). Then the same with a competing process: a busy loop per
--competitors, started before and stopped after. The time per puzzle is the solver's own (model
loading excluded). Target (issue 11): <= 0.1 s per puzzle either way. `solve`, `evaluate` and
`tune` default to --threads 1.

Part 2: wall time of `nar-solver evaluate` on --eval-n puzzles (fresh processes, model loading
included): one process at --threads 1, against `torchrun --nproc_per_node 2` with 1 thread per
rank, interleaved --eval-rounds times.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from nar_solver.evaluate.accuracy import evaluate
from nar_solver.solve.registry import make_solver
from nar_solver.solve.solver import SolverSettings
from nar_solver.world.formats import write_puzzle_folders
from nar_solver.world.program import FAMILIES
from nar_solver.world.puzzle import generate_puzzles

SEED = 7_000_000  # bench/solver_accuracy.py's test sets
ROOT = Path(__file__).resolve().parents[1]
BUSY_LOOP = "while True:\n    pass\n"


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover
        return "n/a"


def test_sets(n: int) -> list:
    return [p for i, family in enumerate(FAMILIES) for p in generate_puzzles(SEED + i, n, family)]


def time_threads(solver, puzzles, settings: dict[str, int]):
    """(wall, CPU) seconds per puzzle for each thread setting, interleaved puzzle by puzzle.

    Wall is the solver's own timing; CPU is this process's CPU time (all threads) over the solve."""
    wall: dict[str, list[float]] = {name: [] for name in settings}
    cpu: dict[str, list[float]] = {name: [] for name in settings}
    for puzzle in puzzles:
        for name, threads in settings.items():
            torch.set_num_threads(threads)
            start = time.process_time()
            wall[name].append(solver.solve(puzzle).seconds)
            cpu[name].append(time.process_time() - start)
    return wall, cpu


def report(label: str, times) -> None:
    wall, cpu = times
    print(f"\n{label}; load average {load_average()}")
    print(f"  {'threads':24s} {'wall s/puzzle: mean':>19s} {'median':>7s} {'p90':>6s} {'max':>6s}  "
          f"{'CPU s/puzzle':>12s}  target <= 0.1 s wall")
    for name, ts in wall.items():
        ordered = sorted(ts)
        mean = statistics.fmean(ts)
        print(f"  {name:24s} {mean:19.3f} {statistics.median(ts):7.3f} {ordered[int(0.9 * (len(ts) - 1))]:6.3f} "
              f"{ordered[-1]:6.3f}  {statistics.fmean(cpu[name]):12.3f}  {'met' if mean <= 0.1 else 'MISSED'}")


def torchrun_part(args) -> None:
    folder = Path(tempfile.mkdtemp(prefix="nar-eval-"))
    try:
        per_family = max(1, args.eval_n // len(FAMILIES))
        # one folder per puzzle: ids restart at 0 in every family, so number them through
        puzzles = [dataclasses.replace(p, id=f"{i:04d}-{p.family}") for i, p in enumerate(test_sets(per_family))]
        write_puzzle_folders(puzzles, folder / "set")
        n = len(list((folder / "set").iterdir()))
        env = dict(os.environ, OMP_NUM_THREADS="1")
        evaluate_args = ["evaluate", str(folder / "set"), "--threads", "1"]
        commands = {
            "1 process, 1 thread": [sys.executable, "-m", "nar_solver", *evaluate_args],
            "torchrun, 2 processes x 1 thread": [sys.executable, "-m", "torch.distributed.run", "--standalone",
                                                 "--nproc_per_node=2", "-m", "nar_solver", *evaluate_args],
        }
        walls: dict[str, list[float]] = {name: [] for name in commands}
        print(f"\nevaluate on {n} puzzles (wall seconds of the whole command, model loading included); "
              f"load average {load_average()}")
        for _ in range(args.eval_rounds):
            for name, cmd in commands.items():
                start = time.perf_counter()
                out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
                walls[name].append(time.perf_counter() - start)
                if out.returncode != 0:
                    raise SystemExit(f"{name} failed: {out.stderr.strip()[-500:]}")
                accuracy = next((line for line in out.stdout.splitlines() if "accuracy" in line), "").strip()
                print(f"  {name:34s} {walls[name][-1]:7.1f} s   {accuracy}", flush=True)
        one, two = (statistics.median(walls[name]) for name in commands)
        ratios = [a / b for a, b in zip(*walls.values())]
        print(f"  median: 1 process {one:.1f} s, torchrun x2 {two:.1f} s: {one / two:.2f}x faster "
              f"(per-round {min(ratios):.2f}-{max(ratios):.2f}); load average {load_average()}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=25, help="puzzles per family")
    parser.add_argument("--competitors", type=int, default=1, help="busy-loop processes in the loaded part")
    parser.add_argument("--eval-n", type=int, default=200)
    parser.add_argument("--eval-rounds", type=int, default=3)
    parser.add_argument("--skip-torchrun", action="store_true")
    args = parser.parse_args()

    default_threads = torch.get_num_threads()  # torch's own default, before anything sets it
    settings = {"1": 1, "2": 2, f"torch default ({default_threads})": default_threads}
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, cpu {torch.backends.cpu.get_cpu_capability()}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')}, load average {load_average()}")
    puzzles = test_sets(args.n)
    solver = make_solver("ga", SolverSettings(seed=0))
    torch.set_num_threads(1)
    _ = solver.manifold
    time_threads(solver, puzzles[:4], settings)  # warm-up
    report(f"GA, default settings, {len(puzzles)} puzzles, no competing process of ours",
           time_threads(solver, puzzles, settings))
    busy = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(args.competitors)]
    try:
        time.sleep(1.0)
        report(f"same, with {args.competitors} busy-loop process(es) competing",
               time_threads(solver, puzzles, settings))
    finally:
        for process in busy:
            process.kill()
            process.wait()
    torch.set_num_threads(1)
    accuracy = evaluate(puzzles, solver)
    print(f"\naccuracy at 1 thread on these puzzles: {accuracy.accuracy:.1%} ({accuracy.correct}/{accuracy.n})")
    if not args.skip_torchrun:
        torchrun_part(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
