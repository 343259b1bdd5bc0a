"""The package's import graph has one-way layers (docs/CONVENTIONS.md): a module imports only its own
layer and the layers below it, with no cycle; world/ and cli/ never import torch at module level."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "nar_solver"

#: Lowest first. A module's layer is its top-level name under nar_solver/.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__init__", "errors", "io", "seeding", "device", "distributed"),
    ("world", "figures"),
    ("data",),
    ("model",),
    ("run",),
    ("train",),
    ("solve",),
    ("evaluate", "metrics", "probe"),
    ("cli", "__main__"),
)
#: Layers whose packages share a rank but never import each other (docs/CONVENTIONS.md): solver
#: accuracy, the disentanglement metrics and the manifold probe are separate rooms.
SIBLINGS = ("evaluate", "metrics", "probe")
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
NO_TORCH = ("world", "cli")


def _module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    """nar_solver.solve.ga -> solve; nar_solver.errors -> errors; nar_solver -> __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imported_layer(name: str) -> str:
    """The layer of an imported name; ``from nar_solver import __version__`` is the package's own."""
    layer = _layer(name)
    return layer if layer in RANK else "__init__"


def _imports(path: Path, root: Path = PACKAGE) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every nar_solver or torch import in the file.

    Imports under ``if TYPE_CHECKING:`` never run, so they do not count."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = _module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno, top) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - child.level + 1] + ([base] if base else []))
                # `from pkg import name` may import the submodule pkg.name: keep the longer name,
                # the graph below falls back to the longest prefix that is a module
                found.extend((f"{base}.{alias.name}", child.lineno, top) for alias in child.names)
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit(child, inner)

    visit(tree, True)
    return [(name, line, top) for name, line, top in found if name.split(".")[0] in ("nar_solver", "torch")]


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_belongs_to_a_layer():
    assert {_layer(_module_name(p)) for p in MODULES} <= set(RANK)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_no_module_imports_a_higher_layer(path):
    here = _layer(_module_name(path))
    upward = [f"line {line}: {name} ({_imported_layer(name)} is above {here})"
              for name, line, _ in _imports(path)
              if name.startswith("nar_solver.") and RANK[_imported_layer(name)] > RANK[here]]
    assert not upward


@pytest.mark.parametrize("path", [p for p in MODULES if _layer(_module_name(p)) in SIBLINGS],
                         ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_evaluate_metrics_and_probe_do_not_import_each_other(path):
    here = _layer(_module_name(path))
    across = [f"line {line}: {name}" for name, line, _ in _imports(path)
              if name.startswith("nar_solver.") and _imported_layer(name) in SIBLINGS
              and _imported_layer(name) != here]
    assert not across


def test_every_sibling_package_exists():
    """The sibling rule checks something: each of the three packages has modules."""
    assert {name for name in SIBLINGS} <= {_layer(_module_name(p)) for p in MODULES}


@pytest.mark.parametrize("path", [p for p in MODULES if _layer(_module_name(p)) in NO_TORCH],
                         ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_world_and_cli_do_not_import_torch_at_module_level(path):
    assert not [line for name, line, top in _imports(path) if top and name.split(".")[0] == "torch"]


def test_no_import_cycle_between_modules():
    """Module-level imports between nar_solver modules form no cycle (a package imports its
    ``__init__``, so packages count as their __init__ module)."""
    names = {_module_name(p): p for p in MODULES}
    graph = {}
    for name, path in names.items():
        targets = set()
        for imported, _, top in _imports(path):
            if not top or not imported.startswith("nar_solver"):
                continue
            while imported not in names and "." in imported:  # `from pkg import name`: the module or pkg
                imported = imported.rpartition(".")[0]
            if imported != name:
                targets.add(imported)
        graph[name] = targets
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, trail: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle.extend(trail[trail.index(nxt):] + [node, nxt] if nxt in trail else [node, nxt])
                return True
            if state.get(nxt) is None and visit(nxt, trail + [node]):
                return True
        state[node] = 2
        return False

    assert not any(state.get(n) is None and visit(n, []) for n in sorted(graph)), " -> ".join(cycle)


def test_the_world_imports_without_torch():
    """Not only the world's own imports: nothing it pulls in loads torch either."""
    worlds = " ".join(f"import {_module_name(p)};" for p in MODULES if _layer(_module_name(p)) == "world")
    code = f"import sys; {worlds} print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_the_checker_sees_an_upward_import(tmp_path):
    """The layering test can fail: a world module importing the solver is reported."""
    bad = tmp_path / "nar_solver" / "world" / "bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("import torch\nfrom nar_solver.solve.ga import run_ga\n\ndef f():\n    import torch\n")
    found = [(name, top) for name, _, top in _imports(bad, tmp_path / "nar_solver")]
    assert found == [("torch", True), ("nar_solver.solve.ga.run_ga", True), ("torch", False)]
    assert RANK[_imported_layer("nar_solver.solve.ga.run_ga")] > RANK["world"]
