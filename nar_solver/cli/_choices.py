"""The option choices and defaults the command modules need at import time, read from the library
without importing it.

`nar-solver --help` and `generate` must start in a fraction of a second; importing torch alone
takes seconds, and the library modules that own these names (solve.*, device, probe.images,
model.traversal) import torch, the world numpy and PIL. So each value here is read from the
owning module's *source*: :func:`library_value` finds the assignment at the top of the file (or the
field default in a dataclass) and evaluates it as a literal. There is one definition of each name,
in the library; tests/test_cli_startup.py checks that the values read equal the imported ones.
Commands import the library, and rich, inside their functions.
"""
from __future__ import annotations

import ast
import operator
import re
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parents[1]
_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Pow: operator.pow}


def _literal(node: ast.AST) -> Any:
    """A literal, or integer arithmetic on literals (``2**32 - 1``)."""
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_literal(node.left), _literal(node.right))
    return ast.literal_eval(node)


def library_value(module: str, name: str) -> Any:
    """The value of ``name`` in ``nar_solver.<module>``, read from its source file, not imported.

    ``name`` is a module-level constant (``KINDS``) or a dataclass field default (``GAConfig.population``)."""
    parts = module.split(".")
    path = _PACKAGE.joinpath(*parts).with_suffix(".py")
    if not path.is_file():
        path = _PACKAGE.joinpath(*parts, "__init__.py")
    text = path.read_text(encoding="utf-8")
    indent = ""
    if "." in name:
        owner, name = name.split(".")
        text = text[re.search(rf"^class {owner}\b", text, re.M).end():]
        indent = r"[ ]{4}"
    match = re.search(rf"^{indent}{name}\s*(?::[^=\n]*)?=\s*", text, re.M)
    if match is None:
        raise LookupError(f"nar_solver.{module} assigns no {name}")
    lines = text[match.end():].splitlines()
    for end in range(1, len(lines) + 1):  # a tuple may span lines: the shortest prefix that parses
        try:
            node = ast.parse("\n".join(lines[:end]).strip(), mode="eval").body
        except SyntaxError:
            continue
        try:
            return _literal(node)
        except (ValueError, TypeError):
            break
    raise LookupError(f"nar_solver.{module}.{name} is not a literal")


SOLVER_NAMES: tuple[str, ...] = library_value("solve.registry", "SOLVER_NAMES")
MANIFOLD_KINDS: tuple[str, ...] = library_value("solve.manifold", "KINDS")
DEFAULT_MANIFOLD: str = library_value("defaults", "MANIFOLD")  # nar_solver/defaults.py: the one place
NORMALISATIONS: tuple[str, ...] = library_value("solve.manifold", "NORMALISATIONS")
DISTANCES: tuple[str, ...] = library_value("solve.fitness", "DISTANCES")
GA_POPULATION: int = library_value("solve.ga", "GAConfig.population")
GA_GENERATIONS: int = library_value("solve.ga", "GAConfig.generations")
GA_DISTANCE: str = library_value("defaults", "DISTANCE")
GA_ELITE: int = library_value("solve.ga", "GAConfig.elite")
GA_MIN_POPULATION: int = library_value("solve.ga", "MIN_POPULATION")
GA_MAX_POPULATION: int = library_value("solve.ga", "MAX_POPULATION")
GA_MAX_GENERATIONS: int = library_value("solve.ga", "MAX_GENERATIONS")
DEVICE_CHOICES: tuple[str, ...] = library_value("device", "DEVICE_CHOICES")
FAMILIES: tuple[str, ...] = library_value("world.program", "FAMILIES")
MAX_OBJECTS: int = library_value("world.puzzle", "MAX_OBJECTS")
FEWSHOT_JSON: str = library_value("world.formats", "FEWSHOT_JSON")
FEWSHOT_IMAGES: str = library_value("world.formats", "FEWSHOT_IMAGES")
SHAPES: tuple[str, ...] = library_value("world.glyphs", "SHAPES")
PROBE_MAX_SAMPLES: int = library_value("probe.images", "MAX_SAMPLES")
PROBE_MAX_SWEEP: int = library_value("probe.images", "MAX_SWEEP")
WORLD_NAMES: tuple[str, ...] = library_value("data", "WORLD_NAMES")
METRIC_PRESETS: tuple[str, ...] = library_value("metrics.runner", "PRESETS")
MAX_SEED: int = library_value("seeding", "MAX_SEED")
TRAVERSE_MAX_STEPS: int = library_value("model.traversal", "MAX_STEPS")
TRAVERSE_MAX_DIMS: int = library_value("model.traversal", "MAX_DIMS")

#: The CLI's own largest sizes (each far above any documented use): generate --count, --examples
#: and --length; tune --repeats.
GENERATE_MAX_COUNT = 100_000
GENERATE_MAX_EXAMPLES = 32
GENERATE_MAX_LENGTH = 20
TUNE_MAX_REPEATS = 100


def finite(ctx, param, value):
    """A click callback refusing NaN, which click's FloatRange lets through (NaN compares false)."""
    import click
    import math

    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number in the range", ctx=ctx, param=param)
    return value
