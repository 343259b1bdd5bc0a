"""The genetic search (DEAP) over slot transformations, scored on the examples.

Real-valued chromosomes (:mod:`nar_solver.solve.transform`), tournament selection with elitism
kept by a HallOfFame, uniform crossover of whole (slot, dimension) gene groups (a child takes the
x-axis move of one parent and the shape change of the other), Gaussian mutation whose step decays
every generation, switch flips for the *set* genes, and DEAP's Statistics/Logbook. The whole
population is scored in one batched call per generation (one decoder pass for pixel distances).
The search stops early once the best chromosome makes the right option win on every example by
``stop_margin`` temperatures.

What the search maximises is :class:`nar_solver.solve.fitness.Objective`. Randomness: DEAP draws
from python's ``random``; the rest from a numpy Generator. Both are seeded from ``run_ga``'s
``seed``, so a run is reproducible.
"""
from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np
import torch
from deap import algorithms, base, creator, tools

from nar_solver import defaults
from nar_solver.errors import NarError
from nar_solver.solve.fitness import Objective
from nar_solver.solve.transform import DELTA, GENES, SWITCH, VALUE, GenomeLayout

#: The smallest population: the elite (2 by default) copied unchanged, plus at least one offspring.
MIN_POPULATION = 3
#: The largest settings a search accepts: far beyond any measured use (docs/solver.md tunes up to
#: 128 x 50), small enough that one search cannot exhaust memory or run for days.
MAX_POPULATION = 4096
MAX_GENERATIONS = 10_000
#: When pixel distances score chromosomes during the search (GAConfig.pixel_search).
PIXEL_SEARCH: tuple[str, ...] = ("always", "fallback", "never")


@dataclass
class GAConfig:
    """Settings of one genetic search. ``population`` and ``generations`` trade time for accuracy
    (`nar-solver tune`); the rest were set by measurement."""

    population: int = 32
    generations: int = 25
    crossover: float = 0.5        # probability that a pair of offspring is crossed
    mutation: float = 0.9         # probability that an offspring is mutated
    gene_rate: float = 0.2        # probability per gene of a Gaussian step (or a switch flip)
    sigma: float = 0.15           # initial mutation step, normalised code units
    sigma_decay: float = 0.93     # step multiplier per generation
    sigma_min: float = 0.01
    switch_rate: float = 0.3      # probability that a chosen switch gene flips
    tournament: int = 3
    elite: int = 2                # best chromosomes copied unchanged into the next generation
    starts: int = 8               # data-driven starting chromosomes (see analogy.start_genomes)
    init_sigma: float = 0.15      # spread of random starting deltas
    init_switch: float = 0.05     # probability that a random starting chromosome sets a dimension
    stop_margin: float = 3.0      # early stop: right option ahead on every example by this many T
    match_weight: float | None = None  # pull toward matching the right option, not only beating the
                                       # others; None: fitness.MATCH_WEIGHTS of the manifold
    distance: str = defaults.DISTANCE  # how predictions are compared with the options (fitness.DISTANCES)
    temperature: float | None = None
    pixel_search: str = "always"  # pixel distances only: "always" scores every chromosome of every
                                  # generation by its decoded images (a decoder pass per generation:
                                  # seconds per puzzle on a CPU); "never" searches in code space and
                                  # scores the ``rerank`` best and the answer by decoded images;
                                  # "fallback" does that, then searches in pixels (from the code
                                  # search's best) only when the best's decoded predictions do not
                                  # pick the right option of every example (docs/solver.md)
    rerank: int = 2               # hall-of-fame chromosomes re-scored by decoded images (code search)

    def __post_init__(self) -> None:
        if self.population < MIN_POPULATION:
            raise NarError(f"population must be at least {MIN_POPULATION}, got {self.population}")
        if self.population > MAX_POPULATION:
            raise NarError(f"population must be at most {MAX_POPULATION}, got {self.population}")
        if self.generations < 0:
            raise NarError(f"generations must be >= 0, got {self.generations}")
        if self.generations > MAX_GENERATIONS:
            raise NarError(f"generations must be at most {MAX_GENERATIONS}, got {self.generations}")
        if not 0 <= self.elite < self.population:
            raise NarError(f"elite must be in 0..population-1, got {self.elite}")
        if self.pixel_search not in PIXEL_SEARCH:
            raise NarError(f"pixel_search must be one of {', '.join(PIXEL_SEARCH)}, got {self.pixel_search!r}")
        if not 1 <= self.rerank <= self.population:
            raise NarError(f"rerank must be in 1..population, got {self.rerank}")

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class GAResult:
    """The best chromosome, the hall of fame (best first), the logbook and how the search ended."""

    best: np.ndarray
    fitness: float
    hall_of_fame: list[np.ndarray]
    logbook: tools.Logbook
    generations: int
    stopped_early: bool
    evaluations: int
    history: list[float] = field(default_factory=list)


def _creator_classes():
    """DEAP creator classes, made once per process (re-creating them warns and breaks pickling)."""
    if not hasattr(creator, "NarFitness"):
        creator.create("NarFitness", base.Fitness, weights=(1.0,))
    if not hasattr(creator, "NarIndividual"):
        creator.create("NarIndividual", np.ndarray, fitness=creator.NarFitness)
    return creator.NarFitness, creator.NarIndividual


def _individual(values: np.ndarray):
    """A creator individual holding a copy of ``values`` (with a fresh, invalid fitness)."""
    _, individual = _creator_classes()
    ind = np.array(values, dtype=np.float64).view(individual)
    ind.__init__()  # creator's init gives the instance its own fitness object
    return ind


def clone(ind):
    """Copy of an individual with its fitness and margin (faster than deepcopy for arrays)."""
    copy = _individual(ind)
    if ind.fitness.valid:
        copy.fitness.values = ind.fitness.values
    copy.margin = getattr(ind, "margin", None)
    return copy


def random_genome(layout: GenomeLayout, rng: np.random.Generator, config: GAConfig) -> np.ndarray:
    """A random starting chromosome: small random deltas, rarely a set dimension, no clamp."""
    g = layout.view(layout.identity()).copy()
    g[:, DELTA] = rng.normal(0.0, config.init_sigma, size=(layout.slots, layout.dims))
    g[:, SWITCH] = (rng.random((layout.slots, layout.dims)) < config.init_switch).astype(float)
    g[:, VALUE] = rng.random((layout.slots, layout.dims))
    return np.clip(g.reshape(-1), layout.lower(), layout.upper())


def crossover_groups(a: np.ndarray, b: np.ndarray, layout: GenomeLayout, rng: np.random.Generator):
    """Uniform crossover of whole (slot, dimension) groups: all five genes of a dimension move together."""
    swap = rng.random((layout.slots, 1, layout.dims)) < 0.5
    swap = np.broadcast_to(swap, (layout.slots, len(GENES), layout.dims)).reshape(-1)
    tmp = a[swap].copy()
    a[swap] = b[swap]
    b[swap] = tmp
    return a, b


def mutate(ind: np.ndarray, layout: GenomeLayout, sigma: float, config: GAConfig,
           rng: np.random.Generator, lower: np.ndarray, upper: np.ndarray):
    """Gaussian steps of size ``sigma`` on a random subset of the real genes; flips of switches."""
    g = layout.view(ind)
    chosen = rng.random(g.shape) < config.gene_rate
    real = chosen.copy()
    real[:, SWITCH] = False
    g[real] += rng.normal(0.0, sigma, size=int(real.sum()))
    flip = chosen[:, SWITCH] & (rng.random(chosen[:, SWITCH].shape) < config.switch_rate)
    g[:, SWITCH][flip] = 1.0 - np.round(g[:, SWITCH][flip])
    np.clip(ind, lower, upper, out=ind)
    return (ind,)


def make_toolbox(layout: GenomeLayout, config: GAConfig, rng: np.random.Generator) -> base.Toolbox:
    """The DEAP toolbox of this search: creation, variation and selection operators (``mutate``
    takes the generation's step: see :func:`set_step`)."""
    _creator_classes()
    toolbox = base.Toolbox()
    toolbox.register("clone", clone)
    toolbox.register("individual", lambda: _individual(random_genome(layout, rng, config)))
    toolbox.register("mate", crossover_groups, layout=layout, rng=rng)
    toolbox.register("select", tools.selTournament, tournsize=config.tournament)
    set_step(toolbox, layout, config, rng, config.sigma)
    return toolbox


def set_step(toolbox: base.Toolbox, layout: GenomeLayout, config: GAConfig, rng: np.random.Generator,
             sigma: float) -> None:
    """Register ``mutate`` with the Gaussian step ``sigma`` (it decays every generation)."""
    toolbox.register("mutate", mutate, layout=layout, sigma=sigma, config=config, rng=rng,
                     lower=layout.lower(), upper=layout.upper())


def evaluate(objective: Objective, individuals: list) -> None:
    """Score the chromosomes in one batched call: set each one's fitness and its smallest example
    margin (in temperatures: how far the right option wins on the hardest example)."""
    if not individuals:
        return
    batch = torch.from_numpy(np.stack([np.asarray(i) for i in individuals])).float()
    fitness, margin = objective(batch)
    for ind, f, m in zip(individuals, fitness.tolist(), margin.cpu().numpy()):
        ind.fitness.values = (float(f),)
        ind.margin = float(m.min()) if m.size else 0.0


def _statistics() -> tuple[tools.Statistics, tools.Logbook]:
    stats = tools.Statistics(lambda ind: ind.fitness.values[0])
    for name, reduce in (("max", np.max), ("avg", np.mean), ("min", np.min)):
        stats.register(name, reduce)
    logbook = tools.Logbook()
    logbook.header = ["gen", "nevals", "sigma", "max", "avg", "min", "margin"]
    return stats, logbook


def run_ga(objective: Objective, config: GAConfig, seed: int = 0, starts: Sequence[np.ndarray] = ()) -> GAResult:
    """Evolve chromosomes that make each example's right option win; return the best.

    ``seed`` seeds every random draw of the search; ``starts`` are starting chromosomes (the first
    ``config.population`` of them), random ones fill the rest of the first population.
    """
    layout = objective.layout
    random.seed(seed)
    rng = np.random.default_rng(seed)
    toolbox = make_toolbox(layout, config, rng)
    population = [_individual(np.clip(np.asarray(s, dtype=np.float64), layout.lower(), layout.upper()))
                  for s in list(starts)[: config.population]]
    population += [toolbox.individual() for _ in range(config.population - len(population))]
    hof = tools.HallOfFame(max(1, config.elite, config.rerank), similar=np.array_equal)
    stats, logbook = _statistics()

    evaluate(objective, population)
    evaluations = len(population)
    hof.update(population)
    logbook.record(gen=0, nevals=len(population), sigma=config.sigma, margin=hof[0].margin,
                   **stats.compile(population))
    history = [hof[0].fitness.values[0]]
    generation = 0
    solved = lambda: hof[0].margin >= config.stop_margin  # noqa: E731 - the early stop, read twice
    while not solved() and generation < config.generations:
        generation += 1
        sigma = max(config.sigma_min, config.sigma * config.sigma_decay ** (generation - 1))
        set_step(toolbox, layout, config, rng, sigma)
        parents = toolbox.select(population, config.population - config.elite)
        offspring = algorithms.varAnd(parents, toolbox, config.crossover, config.mutation)
        fresh = [i for i in offspring if not i.fitness.valid]
        evaluate(objective, fresh)
        evaluations += len(fresh)
        population = [toolbox.clone(h) for h in hof[: config.elite]] + offspring
        hof.update(population)
        logbook.record(gen=generation, nevals=len(fresh), sigma=sigma, margin=hof[0].margin,
                       **stats.compile(population))
        history.append(hof[0].fitness.values[0])
    return GAResult(np.asarray(hof[0]).copy(), float(hof[0].fitness.values[0]),
                    [np.asarray(h).copy() for h in hof], logbook, generation,
                    solved(), evaluations, history)
