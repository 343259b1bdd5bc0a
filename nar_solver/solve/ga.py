"""The genetic search (DEAP) over slot transformations, scored on the examples.

Real-valued chromosomes (:mod:`nar_solver.solve.transform`), tournament selection with elitism
kept by a HallOfFame, uniform crossover of whole (slot, dimension) gene groups (a child takes the
x-axis move of one parent and the shape change of the other), Gaussian mutation whose step decays
every generation, switch flips for the *set* genes, and DEAP's Statistics/Logbook. The whole
population is scored in one batched call per generation (one decoder pass for pixel distances).
The search stops early once the best chromosome makes the right option win on every example by
``stop_margin`` temperatures.

Randomness: DEAP draws from python's ``random``; the rest from a numpy Generator. Both are seeded
from ``seed``, so a run is reproducible.
"""
from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np
import torch
from deap import base, creator, tools

from nar_solver.errors import NarError
from nar_solver.solve.fitness import Scorer, margins
from nar_solver.solve.transform import DELTA, GENES, SWITCH, VALUE, GenomeLayout, complexity


#: Default match weight per manifold kind. With positions from perception (objects-xy) pulling the
#: prediction onto the right option fixes genes the examples leave free (mixed 97.5% -> 99.5%); with
#: entangled codes (objects, board) the exact match is out of reach and the pull costs accuracy.
MATCH_WEIGHTS: dict[str, float] = {"objects-xy": 0.3, "objects": 0.0, "board": 0.0}


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
    ensemble: int = 1             # the answer averages the query probabilities of this many best
    seeds: int = 8                # data-driven starting chromosomes (see analogy.seed_genomes)
    init_sigma: float = 0.15      # spread of random starting deltas
    init_switch: float = 0.05     # probability that a random starting chromosome sets a dimension
    stop_margin: float = 3.0      # early stop: right option ahead on every example by this many T
    match_weight: float | None = None  # pull toward matching the right option, not only beating the
                                       # others; None: MATCH_WEIGHTS of the manifold (measured)
    set_cost: float = 0.0         # Occam penalty (nats of fitness) per set dimension (off: measured no gain)
    clamp_cost: float = 0.0       # ... per unit of clamp-interval narrowing
    distance: str = "code"
    temperature: float | None = None

    def __post_init__(self) -> None:
        if self.population < 2:
            raise NarError(f"population must be at least 2, got {self.population}")
        if self.generations < 0:
            raise NarError(f"generations must be >= 0, got {self.generations}")
        if not 0 <= self.elite < self.population:
            raise NarError(f"elite must be in 0..population-1, got {self.elite}")

    def to_dict(self) -> dict:
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
    """The DEAP toolbox of this search: creation, variation and selection operators."""
    _creator_classes()
    lower, upper = layout.lower(), layout.upper()
    toolbox = base.Toolbox()
    toolbox.register("clone", clone)
    toolbox.register("individual", lambda: _individual(random_genome(layout, rng, config)))
    toolbox.register("mate", crossover_groups, layout=layout, rng=rng)
    toolbox.register("mutate", mutate, layout=layout, config=config, rng=rng, lower=lower, upper=upper)
    toolbox.register("select", tools.selTournament, tournsize=config.tournament)
    return toolbox


def run_ga(scorer: Scorer, config: GAConfig, seed: int = 0, seeds: Sequence[np.ndarray] = ()) -> GAResult:
    """Evolve chromosomes that make each example's right option win; return the best."""
    layout = scorer.layout
    random.seed(seed)
    rng = np.random.default_rng(seed)
    toolbox = make_toolbox(layout, config, rng)
    temperature = scorer.temperature
    match_weight = config.match_weight
    if match_weight is None:
        match_weight = MATCH_WEIGHTS.get(scorer.manifold.kind, 0.0)

    def evaluate(individuals: list) -> np.ndarray:
        """Score all given chromosomes in one batched call; return their example margins."""
        if not individuals:
            return np.zeros((0, scorer.encoded.n_examples))
        batch = torch.from_numpy(np.stack([np.asarray(i) for i in individuals])).float()
        fit, dist = scorer.fitness(batch)
        fit = fit - complexity(layout, batch, config.set_cost, config.clamp_cost)
        if match_weight:
            answers = scorer.encoded.answers
            right = dist.gather(-1, answers[None, :, None].expand(dist.shape[0], -1, 1))[..., 0]
            fit = fit - match_weight * right.sum(-1) / temperature
        marg = margins(dist, scorer.encoded.answers) / temperature
        for ind, f, m in zip(individuals, fit.tolist(), marg.cpu().numpy()):
            ind.fitness.values = (float(f),)
            ind.margin = float(m.min()) if m.size else 0.0
        return marg.cpu().numpy()

    population = [_individual(np.clip(np.asarray(s, dtype=np.float64), layout.lower(), layout.upper()))
                  for s in list(seeds)[: config.population]]
    population += [toolbox.individual() for _ in range(config.population - len(population))]
    hof = tools.HallOfFame(max(1, config.elite, config.ensemble), similar=np.array_equal)
    stats = tools.Statistics(lambda ind: ind.fitness.values[0])
    stats.register("max", np.max)
    stats.register("avg", np.mean)
    stats.register("min", np.min)
    logbook = tools.Logbook()
    logbook.header = ["gen", "nevals", "sigma", "max", "avg", "min", "margin"]

    evaluate(population)
    evaluations = len(population)
    hof.update(population)
    logbook.record(gen=0, nevals=len(population), sigma=config.sigma, margin=hof[0].margin,
                   **stats.compile(population))
    history = [hof[0].fitness.values[0]]
    stopped = hof[0].margin >= config.stop_margin
    generation = 0
    while not stopped and generation < config.generations:
        generation += 1
        sigma = max(config.sigma_min, config.sigma * config.sigma_decay ** (generation - 1))
        offspring = [toolbox.clone(i) for i in toolbox.select(population, config.population - config.elite)]
        for a, b in zip(offspring[::2], offspring[1::2]):
            if random.random() < config.crossover:
                toolbox.mate(a, b)
                del a.fitness.values, b.fitness.values
        for ind in offspring:
            if random.random() < config.mutation:
                toolbox.mutate(ind, sigma=sigma)
                del ind.fitness.values
        fresh = [i for i in offspring if not i.fitness.valid]
        evaluate(fresh)
        evaluations += len(fresh)
        population = [toolbox.clone(h) for h in hof[: config.elite]] + offspring
        hof.update(population)
        logbook.record(gen=generation, nevals=len(fresh), sigma=sigma, margin=hof[0].margin,
                       **stats.compile(population))
        history.append(hof[0].fitness.values[0])
        stopped = hof[0].margin >= config.stop_margin
    return GAResult(np.asarray(hof[0]).copy(), float(hof[0].fitness.values[0]),
                    [np.asarray(h).copy() for h in hof], logbook, generation, stopped, evaluations, history)
