"""A non-editable install finds the shipped models: build a wheel from a copy of the source, install
it into a fresh virtual environment and solve a shipped puzzle from a folder outside the checkout.

The fresh environment gets the dependencies (torch and the rest) through a .pth file pointing at the
site folders of the environment running the tests, so nothing is downloaded; nar_solver itself
comes only from the wheel (asserted)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from nar_solver.run.shipped import SHIPPED

REPO = Path(__file__).resolve().parent.parent
SKIP = shutil.ignore_patterns(".git", ".venv", "runs", "build", "dist", "*.egg-info", "__pycache__",
                              ".pytest_cache", ".hypothesis", "*.tmp")


def _dependency_folders() -> list[str]:
    """Folders of this interpreter's sys.path that hold installed packages but not nar_solver."""
    folders = []
    for entry in sys.path:
        path = Path(entry) if entry else None
        if path is None or not path.is_dir() or (path / "nar_solver").exists():
            continue
        if path.name in ("site-packages", "dist-packages"):
            folders.append(str(path.resolve()))
    return folders


def _run(cmd, cwd, timeout=600):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    result = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                            env={**env, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, f"{cmd}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    try:
        import wheel  # noqa: F401 - the build backend needs it (setuptools < 70.1)
    except ImportError:
        pytest.skip("the wheel package is not installed (it is in the test extra: pip install -e '.[test]')")
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    shutil.copytree(REPO, source, ignore=SKIP)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", root / "dist",
          source], cwd=root)
    (built,) = (root / "dist").glob("nar_solver-*.whl")
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=root)
    python = venv / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root).strip())
    (site / "test_dependencies.pth").write_text("\n".join(_dependency_folders()) + "\n")
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", built], cwd=root)
    return built, venv, site


def test_the_wheel_carries_the_shipped_models(installed):
    assert len(SHIPPED) == 6
    built, _, _ = installed
    names = set(zipfile.ZipFile(built).namelist())
    for model in SHIPPED.values():
        for name in ("config.json", "model.safetensors", "losses.jsonl", "figures/losses.png"):
            assert f"nar_solver/checkpoints/{model}/{name}" in names


def test_an_installed_wheel_solves_a_shipped_puzzle_from_outside_the_checkout(installed, tmp_path):
    _, venv, site = installed
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run([venv / "bin" / "python", "-c", "import nar_solver; print(nar_solver.__file__)"], cwd=elsewhere)
    assert Path(where.strip()).resolve().is_relative_to(site.resolve())   # the wheel's copy, not the checkout
    puzzle = REPO / "puzzles" / "shift1-a"
    for manifold, folder in (("objects-xy", "objects"), ("objects", "objects-whatwhere"), ("board", "boards-broadcast")):
        out = _run([venv / "bin" / "nar-solver", "solve", puzzle, "--manifold", manifold, "--json",
                    "--generations", "5"], cwd=elsewhere)
        report = json.loads(out)
        assert report["checkpoint"] == str((site / "nar_solver" / "checkpoints" / folder).resolve())
        assert 0 <= report["answer"] < 4 and report["puzzle"] == "shift1-a"
    assert report["version"] and list(elsewhere.iterdir()) == []          # nothing written where it ran
