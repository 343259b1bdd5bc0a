"""A CLI that starts at once: --help and generate never import torch; solving commands take --threads.

Each import check runs in a fresh interpreter, because this test process has imported torch long ago.
bench/cli_startup.py measures the start-up times themselves.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]


def _fresh(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_importing_the_cli_and_the_world_does_not_import_torch():
    code = "import sys, nar_solver.cli, nar_solver.world; print(sorted(m for m in ('torch', 'numpy') if m in sys.modules))"
    # the CLI's command modules import neither torch nor numpy at import time
    assert _fresh("import sys, nar_solver.cli; print('torch' in sys.modules, 'numpy' in sys.modules)") == "False False"
    assert _fresh(code) == "['numpy']"


def _run_main(body: str, path) -> subprocess.CompletedProcess:
    """Run ``body`` after importing the CLI's main, in a fresh interpreter, with ``path`` as argv[1]."""
    code = "import sys\nfrom nar_solver.cli import main\n" + body
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=ROOT)


def test_help_and_generate_run_without_torch(tmp_path):
    code = (
        "for args in (['--help'], ['solve', '--help'], ['generate', '-n', '1', sys.argv[1]]):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as e:\n"
        "        assert e.code in (0, None), (args, e.code)\n"
        "print('torch' in sys.modules)\n"
    )
    out = _run_main(code, tmp_path / "set")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"
    assert (tmp_path / "set" / "0000" / "puzzle.json").is_file()


def test_solve_reports_a_bad_puzzle_before_importing_torch(tmp_path):
    code = (
        "try:\n"
        "    main(['solve', sys.argv[1]])\n"
        "except SystemExit as e:\n"
        "    print(e.code, 'torch' in sys.modules)\n"
    )
    out = _run_main(code, tmp_path / "missing")
    assert out.stdout.strip() == "2 False", out.stderr
    assert out.stderr.startswith("error: ") and len(out.stderr.strip().splitlines()) == 1


def test_the_cli_choices_equal_the_library_names():
    from nar_solver.cli import _choices
    from nar_solver.data import WORLD_NAMES
    from nar_solver.device import DEVICE_CHOICES
    from nar_solver.probe.images import MAX_SAMPLES, MAX_SWEEP
    from nar_solver.solve.fitness import DISTANCES
    from nar_solver.solve.ga import MIN_POPULATION, GAConfig
    from nar_solver.solve.manifold import DEFAULT_KIND, KINDS
    from nar_solver.solve.registry import SOLVER_NAMES, SOLVERS
    from nar_solver.world.formats import FEWSHOT_IMAGES, FEWSHOT_JSON
    from nar_solver.world.glyphs import SHAPES
    from nar_solver.world.program import FAMILIES
    from nar_solver.world.puzzle import MAX_OBJECTS

    assert _choices.SOLVER_NAMES == SOLVER_NAMES and set(SOLVER_NAMES) == set(SOLVERS)
    assert (_choices.MANIFOLD_KINDS, _choices.DEFAULT_MANIFOLD) == (KINDS, DEFAULT_KIND)
    assert _choices.DISTANCES == DISTANCES
    ga = GAConfig()
    assert (_choices.GA_POPULATION, _choices.GA_GENERATIONS, _choices.GA_DISTANCE, _choices.GA_ELITE) == (
        ga.population, ga.generations, ga.distance, ga.elite)
    assert _choices.GA_MIN_POPULATION == MIN_POPULATION
    assert _choices.DEVICE_CHOICES == DEVICE_CHOICES
    assert _choices.WORLD_NAMES == WORLD_NAMES
    assert _choices.FAMILIES == FAMILIES and _choices.MAX_OBJECTS == MAX_OBJECTS
    assert (_choices.FEWSHOT_JSON, _choices.FEWSHOT_IMAGES) == (FEWSHOT_JSON, FEWSHOT_IMAGES)
    assert _choices.SHAPES == SHAPES
    assert (_choices.PROBE_MAX_SAMPLES, _choices.PROBE_MAX_SWEEP) == (MAX_SAMPLES, MAX_SWEEP)


@pytest.mark.parametrize("command", ["solve", "evaluate", "tune"])
def test_threads_option_is_documented_with_its_default(command):
    from nar_solver.cli import main

    result = CliRunner().invoke(main, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    line = next(line for line in result.output.splitlines() if "--threads" in line)
    assert "[default: 1; x>=0]" in line


@pytest.mark.parametrize("threads", [2, 1])
def test_solve_runs_on_the_threads_asked_for(threads):
    import torch

    from nar_solver.cli import main

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(3)
        result = CliRunner().invoke(main, ["solve", str(ROOT / "puzzles" / "shift1-a"), "--json",
                                           "--threads", str(threads), "--generations", "1"])
        assert result.exit_code == 0, result.output
        assert torch.get_num_threads() == threads
    finally:
        torch.set_num_threads(before)


def test_solve_defaults_to_one_thread():
    import torch

    from nar_solver.cli import main

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        result = CliRunner().invoke(main, ["solve", str(ROOT / "puzzles" / "shift1-a"), "--json",
                                           "--generations", "1"])
        assert result.exit_code == 0, result.output
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_threads_zero_means_the_idle_cores(monkeypatch):
    import torch

    from nar_solver import device

    before = torch.get_num_threads()
    try:
        monkeypatch.setattr(device, "available_cores", lambda: 4)
        monkeypatch.setattr(device.os, "getloadavg", lambda: (1.0, 1.0, 1.0))
        assert device.set_cpu_threads(0, processes=1) == 3
        monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
        assert device.set_cpu_threads(0) == 2  # torchrun: the 4 cores split between 2 processes
        assert device.set_cpu_threads(1) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
