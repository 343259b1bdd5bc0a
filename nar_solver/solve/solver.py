"""One Solver interface for the GA and every baseline (:mod:`nar_solver.solve.baselines`).

A solver's ``solve(puzzle) -> Solution``; :mod:`nar_solver.solve.registry` finds one by name.
Solvers that need a model load the manifold once and reuse it for every puzzle. Every solve is
reproducible: the GA reseeds python ``random``, numpy and torch from ``settings.seed`` for each
puzzle.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nar_solver.device import resolve_device
from nar_solver.errors import NarError
from nar_solver.model.images import ink_to_grey
from nar_solver.seeding import seed_everything
from nar_solver.solve.abstain import TIE_TEMPERATURES, settle
from nar_solver.solve.analogy import start_genomes
from nar_solver.solve import selfcheck
from nar_solver.solve.encoding import EncodedPuzzle, encode_puzzle
from nar_solver.solve.explain import SlotRule, example_margins, explain_rule
from nar_solver.solve.fitness import Objective, Scorer, log_likelihood, margins, match_weight, pixel_distances
from nar_solver.solve.ga import GAConfig, GAResult, run_ga
from nar_solver.solve.manifold import DEFAULT_KIND, KINDS, LatentManifold, load_manifold
from nar_solver.solve.transform import GenomeLayout
from nar_solver.world.puzzle import Puzzle


@dataclass
class Solution:
    """A solver's answer to one puzzle.

    ``scores`` per option (higher is better), ``confidence`` the softmax probability of the chosen
    option, ``examples_solved`` how many examples the solver's own rule reproduces (a self-check,
    :mod:`nar_solver.solve.selfcheck`; None when the solver has no rule to check), ``seconds``
    wall time of the solve. Rule-based solvers add to ``details``: ``genome``, ``margins`` (per
    example, in temperatures) and ``reproduction`` (per example, distance to the right option over
    its distance to the nearest other option); the GA also ``logbook``, ``generations``,
    ``stopped_early`` and ``slots``. ``abstain`` (with ``abstain_reason``) says the solver could not
    read the puzzle and ``answer`` is a guess at chance confidence (:mod:`nar_solver.solve.abstain`).
    """

    answer: int
    scores: list[float]
    confidence: float
    examples_solved: int | None
    n_examples: int
    seconds: float
    solver: str
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict, repr=False)
    abstain: bool = False
    abstain_reason: str | None = None

    def to_json(self) -> dict:
        """The documented JSON schema of ``nar-solver solve --json``."""
        return {"answer": int(self.answer), "scores": [float(s) for s in self.scores],
                "confidence": float(self.confidence), "examples_solved": self.examples_solved,
                "seconds": float(self.seconds), "abstain": bool(self.abstain),
                "abstain_reason": self.abstain_reason}


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    x = np.asarray(scores, dtype=np.float64) / temperature
    x = np.exp(x - x.max())
    return x / x.sum()


#: Calibration of the GA's confidence: its softmax over the query's options runs at the fitness
#: temperature times this factor, per (manifold kind, distance); 1 where none was fitted. Each was
#: fitted by temperature scaling (nar_solver.evaluate.calibration.fit_temperature) on generated
#: puzzles disjoint from the measuring ones (bench/calibration.py, docs/solver.md).
CONFIDENCE_SCALES: dict[tuple[str, str], float] = {}


def confidence_scale(kind: str, distance: str) -> float:
    """The factor of :data:`CONFIDENCE_SCALES` for a manifold kind and a distance (1 if unfitted)."""
    return float(CONFIDENCE_SCALES.get((kind, distance), 1.0))


def solution_from_scores(scores: np.ndarray, temperature: float, solver: str, examples_solved: int | None,
                         n_examples: int, seconds: float = 0.0, confidence_scale: float = 1.0,
                         **details) -> Solution:
    """The highest-scoring option (first on ties; :meth:`Solver.solve` then breaks ties at random),
    with its softmax confidence at ``temperature`` x ``confidence_scale``; ``details`` records the
    temperature that defines a tie."""
    scores = np.asarray(scores, dtype=np.float64)
    answer = int(np.argmax(scores))
    probs = softmax(scores, temperature * confidence_scale)
    return Solution(answer, scores.tolist(), float(probs[answer]), examples_solved, n_examples,
                    seconds, solver, details={"temperature": float(temperature), **details})


@dataclass
class SolverSettings:
    """What a solver needs beyond the puzzle."""

    checkpoint: str | Path | None = None   # None: the shipped model of ``manifold``
    manifold: str = DEFAULT_KIND
    device: str = "auto"                   # auto | cpu | cuda | cuda:N (auto: CUDA when available)
    seed: int = 0
    ga: GAConfig = field(default_factory=GAConfig)
    min_confidence: float = 0.0            # abstain below this confidence (solve.abstain)

    def __post_init__(self) -> None:
        if self.manifold not in KINDS:
            raise NarError(f"unknown manifold {self.manifold!r}; choose one of {', '.join(KINDS)}")
        if not 0.0 <= float(self.min_confidence) <= 1.0:
            raise NarError(f"min_confidence must be in [0, 1], got {self.min_confidence}")

    def to_json(self) -> dict:
        out = asdict(self)
        out["checkpoint"] = None if self.checkpoint is None else str(self.checkpoint)
        return out


class Solver:
    """Base class: subclasses implement :meth:`_solve`; :meth:`solve` times it."""

    name = "solver"
    needs_model = False

    def __init__(self, settings: SolverSettings | None = None, manifold: LatentManifold | None = None):
        self.settings = settings or SolverSettings()
        self._manifold = manifold

    @property
    def manifold(self) -> LatentManifold:
        """The latent manifold, loaded on first use and kept."""
        if self._manifold is None:
            s = self.settings
            self._manifold = load_manifold(s.checkpoint, s.manifold, resolve_device(s.device))
        return self._manifold

    def solve(self, puzzle: Puzzle, with_images: bool = False) -> Solution:
        """Answer ``puzzle``; ``with_images`` adds predicted boards to ``details`` (for figures).
        Ties are broken at random under the seed, and a puzzle the solver cannot read is answered
        with an abstention (:func:`nar_solver.solve.abstain.settle`)."""
        if self.needs_model:
            _ = self.manifold  # loading the model is not part of a puzzle's time
        start = time.perf_counter()
        solution = self._solve(puzzle, with_images)
        settle(puzzle, solution, self.settings.seed, self.settings.min_confidence)
        solution.seconds = time.perf_counter() - start
        return solution

    def _solve(self, puzzle: Puzzle, with_images: bool) -> Solution:  # pragma: no cover - abstract
        raise NotImplementedError

    def explain(self, puzzle: Puzzle, solution: Solution) -> list[SlotRule] | None:
        """The rule behind ``solution`` in words, per slot (None for solvers without a rule). Dimension
        names come from the model folder's probe.json or metrics report when there is one."""
        genome = solution.details.get("genome")
        if genome is None or not self.needs_model:
            return None
        from nar_solver.run.dimension_names import read_dimension_names

        _, scorer = self.prepare(puzzle)
        return explain_rule(scorer, genome, read_dimension_names(self.manifold.source))

    def prepare(self, puzzle: Puzzle) -> tuple[EncodedPuzzle, Scorer]:
        """Encode ``puzzle`` on the manifold and build the scorer of the configured distance."""
        encoded = encode_puzzle(puzzle, self.manifold)
        layout = GenomeLayout(encoded.n_slots, self.manifold.dims)
        config = self.settings.ga
        return encoded, Scorer(encoded, self.manifold, layout, config.distance, config.temperature)


#: The pixel distance of the self-check on pure latent manifolds when the solver scores codes.
CHECK_DISTANCE = "pixel-mse"


def rule_solution(name: str, scorer: Scorer, genome: np.ndarray, with_images: bool,
                  ink: torch.Tensor | None = None, confidence_scale: float = 1.0, **details) -> Solution:
    """Score the query's options under one chromosome and self-check it on the examples.

    On ``objects-xy`` an example counts as solved when the rule reproduces its right option
    (:mod:`nar_solver.solve.selfcheck`). On the pure latent manifolds (``objects``, ``board``)
    codes never come back exactly, so an example counts when the decoded prediction lies nearest,
    in pixels, to the right option (the scorer's pixel distance, else :data:`CHECK_DISTANCE`).
    Examples, query and check share one decoder pass (``ink``: :meth:`Scorer.decoded` of
    ``genome``, when the caller has it)."""
    genome_t = torch.from_numpy(np.asarray(genome, dtype=np.float32))[None]
    latent = scorer.manifold.kind != "objects-xy"
    pixel = scorer.distance != "code"
    if ink is None and (pixel or latent or with_images):
        ink = scorer.decoded(genome_t)
    d = scorer.board_distances(genome_t, ink=ink)[0]                                   # (E+1, O)
    d_examples, d_query = d[:-1], d[-1]
    answers = scorer.encoded.answers
    if latent:
        check = scorer.distance if pixel else CHECK_DISTANCE
        d_check = d_examples if pixel else scorer.board_distances(genome_t, check, ink)[0, :-1]
        separation = scorer.separations(check)
        solved_examples = selfcheck.nearest_mask(d_check, answers)
    else:
        d_check, separation = d_examples, scorer.separations()
        solved_examples = selfcheck.solved_mask(d_examples, answers, separation)
    solution = solution_from_scores(-d_query.cpu().numpy(), scorer.temperature, name,
                                    int(solved_examples.sum()), scorer.encoded.n_examples,
                                    confidence_scale=confidence_scale, genome=np.asarray(genome),
                                    margins=example_margins(d_examples, answers, scorer.temperature),
                                    reproduction=selfcheck.ratios(d_check, answers, separation).tolist(),
                                    **details)
    slots = scorer.encoded.slots
    if not slots.consistent:
        solution.notes.append(f"examples disagree on the number of copies (output/input ratios "
                              f"{[None if r is None else round(r, 2) for r in slots.ratios]}); using {slots.slots}")
    if with_images:
        solution.details.update(predicted_images(ink[0]))
    return solution


def predicted_images(ink: torch.Tensor) -> dict[str, np.ndarray]:
    """Decoded predictions of one chromosome, ink (E+1, 64, 64) from :meth:`Scorer.decoded`:
    ``predicted_examples`` (E, 64, 64) and ``predicted_query`` (64, 64), uint8 grey."""
    return {"predicted_examples": ink_to_grey(ink[:-1]), "predicted_query": ink_to_grey(ink[-1:])[0]}


def rerank(scorer: Scorer, candidates: list[np.ndarray]) -> tuple[list[int], torch.Tensor]:
    """Order the search's best chromosomes by ``scorer``'s (decoded-image) log-likelihood of the
    examples' right options, the search's order kept on ties. Returns the order and the decoded
    ink (k, E+1, 64, 64) of every candidate (one decoder pass for all of them)."""
    batch = torch.from_numpy(np.stack(candidates).astype(np.float32))
    ink = scorer.decoded(batch)
    d = scorer.board_distances(batch, ink=ink)[:, :-1]                                 # (k, E, O)
    fit = log_likelihood(d, scorer.encoded.answers, scorer.temperature).cpu().numpy()
    order = sorted(range(len(candidates)), key=lambda i: (-round(float(fit[i]), 9), i))
    return order, ink


def wins_every_example(scorer: Scorer, ink: torch.Tensor, margin: float) -> bool:
    """Does the chromosome whose decoded ink (1, E+1, 64, 64) is given make every example's right
    option win by ``margin`` temperatures in ``scorer``'s distance?"""
    d = pixel_distances(ink, scorer.encoded.option_ink, scorer.distance)[:, :-1]
    return bool((margins(d, scorer.encoded.answers) / scorer.temperature).min() >= margin)


class GASolver(Solver):
    """The genetic search over slot transformations in the object (or board) latent space."""

    name = "ga"
    needs_model = True

    def _solve(self, puzzle: Puzzle, with_images: bool) -> Solution:
        seed_everything(self.settings.seed)
        encoded, scorer = self.prepare(puzzle)
        config = self.settings.ga
        # Pixel distances: a decoder pass per generation costs seconds per puzzle on a CPU, so
        # unless GAConfig.pixel_search is "always" the search runs in code space and its best
        # chromosomes and the answer are scored by their decoded images; "fallback" then searches
        # in pixels only when that best's decoded predictions do not pick the right option of
        # every example (by more than a tie; docs/solver.md).
        two_stage = scorer.distance != "code" and config.pixel_search != "always"
        search = scorer.with_distance("code") if two_stage else scorer
        match = match_weight(self.manifold.kind, config.match_weight)
        objective = Objective(search, match)
        starts = start_genomes(encoded, scorer.layout, config.starts)
        result: GAResult = run_ga(objective, config, seed=self.settings.seed, starts=starts)
        best, ink = result.best, None
        if two_stage:
            candidates = result.hall_of_fame[: config.rerank]
            order, inks = rerank(scorer, candidates)
            best, ink = candidates[order[0]], inks[order[0]:order[0] + 1]
            if config.pixel_search == "fallback" and not wins_every_example(scorer, ink, TIE_TEMPERATURES):
                pixel = Objective(scorer, match)
                result = run_ga(pixel, config, seed=self.settings.seed,
                                starts=[candidates[i] for i in order] + list(starts))
                best, ink = result.best, None
        scale = confidence_scale(self.manifold.kind, scorer.distance)
        solution = rule_solution(self.name, scorer, best, with_images, ink=ink, confidence_scale=scale,
                                 logbook=result.logbook,
                                 generations=result.generations, stopped_early=result.stopped_early,
                                 slots=encoded.n_slots)
        return solution
