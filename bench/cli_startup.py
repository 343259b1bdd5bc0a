"""Start-up time of the CLI: wall seconds of fresh `nar-solver` processes, median of several rounds.

    .venv/bin/python bench/cli_startup.py               # 7 rounds
    .venv/bin/python bench/cli_startup.py --rounds 11 --no-bytecode-cache

Each round runs every command once, in turn (A B C ... A B C ...), so load from other processes
hits them alike. Every run is a new interpreter (nothing imported yet; the OS file cache is warm
after the first round, which is not timed). Targets (issue 11): --help <= 0.5 s, generate -n 1
<= 1 s, solve of a shipped puzzle <= 2.5 s at one thread. Two floors are timed the same way: an
empty interpreter, and one that only imports torch: no command that solves can start faster than
that. By default Python's bytecode cache is on, as in any installed package (the first, untimed
round writes it); --no-bytecode-cache compiles every module from source each time.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"nar-solver --help": 0.5, "nar-solver generate -n 1": 1.0, "nar-solver solve puzzles/shift1-a": 2.5}


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover
        return "n/a"


def commands(scratch: Path) -> dict[str, list[str]]:
    exe = [sys.executable, "-c", "from nar_solver.cli import main; main()"]
    return {
        "python (empty interpreter)": [sys.executable, "-c", "pass"],
        "python -c 'import torch'": [sys.executable, "-c", "import torch"],
        "nar-solver --help": exe + ["--help"],
        "nar-solver generate -n 1": exe + ["generate", "-n", "1", str(scratch / "set-{n}")],
        "nar-solver solve puzzles/shift1-a": exe + ["solve", str(ROOT / "puzzles" / "shift1-a")],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-bytecode-cache", action="store_true")
    args = parser.parse_args()

    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if args.no_bytecode_cache:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="nar-nocache-")  # never an existing cache
    scratch = Path(tempfile.mkdtemp(prefix="nar-startup-"))
    cmds = commands(scratch)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, bytecode cache "
          f"{'off' if args.no_bytecode_cache else 'on'}, OMP_NUM_THREADS=1, load average {load_average()}")
    times: dict[str, list[float]] = {name: [] for name in cmds}
    cpu: dict[str, list[float]] = {name: [] for name in cmds}
    runs = 0
    try:
        for r in range(args.rounds + 1):  # round 0 warms the file cache (and writes bytecode): not timed
            for name, cmd in cmds.items():
                runs += 1
                cmd = [part.replace("{n}", str(runs)) for part in cmd]
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
                seconds = time.perf_counter() - start
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu_seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                if out.returncode != 0:
                    raise SystemExit(f"{name} failed ({out.returncode}): {out.stderr.strip()[-400:]}")
                if r > 0:
                    times[name].append(seconds)
                    cpu[name].append(cpu_seconds)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\n{'command (fresh process)':36s} {'wall s: median':>14s} {'min':>6s} {'max':>6s} {'CPU s':>6s}  "
          f"target (wall)")
    for name, ts in times.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else f"{target:.1f}  {'met' if statistics.median(ts) <= target else 'MISSED'}"
        print(f"{name:36s} {statistics.median(ts):14.2f} {min(ts):6.2f} {max(ts):6.2f} "
              f"{statistics.median(cpu[name]):6.2f}  {verdict}")
    print("CPU s: user + system time of the process, median; wall exceeds it when other work holds the cores")
    print(f"\n{args.rounds} rounds; load average at the end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
