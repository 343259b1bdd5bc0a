"""The option choices and defaults the command modules need at import time, without importing torch.

`nar-solver --help` and `generate` must start in a fraction of a second; importing torch alone
takes seconds. The library modules that own these names (solve.manifold, solve.fitness, solve.ga,
solve.registry, device, probe.images) import torch, and nar_solver.data and the world
import numpy and PIL, so their values are repeated here and tests/test_cli_startup.py checks that
every one still equals the library's. Commands import the library, and rich, inside their functions.
"""
from __future__ import annotations

#: nar_solver.solve.registry.SOLVER_NAMES
SOLVER_NAMES: tuple[str, ...] = ("ga", "latent-arithmetic", "pixel", "options-only", "random")
#: nar_solver.solve.manifold.KINDS and DEFAULT_KIND
MANIFOLD_KINDS: tuple[str, ...] = ("objects-xy", "objects", "board")
DEFAULT_MANIFOLD = "objects-xy"
#: nar_solver.solve.fitness.DISTANCES
DISTANCES: tuple[str, ...] = ("code", "pixel-mse", "pixel-bce", "ssim")
#: nar_solver.solve.ga.GAConfig() defaults the options show
GA_POPULATION = 32
GA_GENERATIONS = 25
GA_DISTANCE = "code"
GA_ELITE = 2
#: nar_solver.solve.ga.MIN_POPULATION
GA_MIN_POPULATION = 3
#: nar_solver.device.DEVICE_CHOICES
DEVICE_CHOICES: tuple[str, ...] = ("auto", "cpu", "cuda")
#: nar_solver.world.program.FAMILIES, nar_solver.world.puzzle.MAX_OBJECTS and the few-shot-nar
#: names of nar_solver.world.formats (the world imports numpy and PIL: a third of a second)
FAMILIES: tuple[str, ...] = ("shift1", "shift", "shape", "mixed")
MAX_OBJECTS = 9
FEWSHOT_JSON = "problems.json"
FEWSHOT_IMAGES = "images"
#: nar_solver.world.glyphs.SHAPES
SHAPES: tuple[str, ...] = (
    "circle", "square", "triangle", "delta",
    "b", "d", "e", "g", "k", "m", "r", "s", "u", "w", "x", "z",
    "theta", "pi", "tau", "psi",
)
#: nar_solver.probe.images.MAX_SAMPLES and MAX_SWEEP
PROBE_MAX_SAMPLES = 256
PROBE_MAX_SWEEP = 64
#: nar_solver.data.WORLD_NAMES
WORLD_NAMES: tuple[str, ...] = ("dsprites", "objects")
#: nar_solver.seeding.MAX_SEED: every --seed is in 0..MAX_SEED
MAX_SEED = 2**32 - 1
#: nar_solver.model.traversal.MAX_STEPS and MAX_DIMS (traverse --steps, --dims)
TRAVERSE_MAX_STEPS = 101
TRAVERSE_MAX_DIMS = 256
#: The largest sizes the CLI accepts (each far above any documented use): generate --count,
#: --examples and --length; the GA's --population and --generations (solve, evaluate, tune);
#: tune --repeats.
GENERATE_MAX_COUNT = 100_000
GENERATE_MAX_EXAMPLES = 32
GENERATE_MAX_LENGTH = 20
GA_MAX_POPULATION = 4096
GA_MAX_GENERATIONS = 10_000
TUNE_MAX_REPEATS = 100
