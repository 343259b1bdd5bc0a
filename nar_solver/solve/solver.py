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
from nar_solver.solve.abstain import settle
from nar_solver.solve.analogy import start_genomes
from nar_solver.solve import selfcheck
from nar_solver.solve.encoding import EncodedPuzzle, encode_puzzle
from nar_solver.solve.explain import SlotRule, example_margins, explain_rule
from nar_solver.solve.fitness import Objective, Scorer, composite_ink, match_weight
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


def solution_from_scores(scores: np.ndarray, temperature: float, solver: str, examples_solved: int | None,
                         n_examples: int, seconds: float = 0.0, **details) -> Solution:
    """The highest-scoring option (first on ties; :meth:`Solver.solve` then breaks ties at random),
    with its softmax confidence; ``details`` records the temperature that defines a tie."""
    scores = np.asarray(scores, dtype=np.float64)
    answer = int(np.argmax(scores))
    probs = softmax(scores, temperature)
    return Solution(answer, scores.tolist(), float(probs[answer]), examples_solved, n_examples,
                    seconds, solver, details={"temperature": float(temperature), **details})


@dataclass
class SolverSettings:
    """What a solver needs beyond the puzzle."""

    checkpoint: str | Path | None = None   # None: the shipped model of ``manifold``
    manifold: str = DEFAULT_KIND
    device: str = "auto"                   # auto | cpu | cuda | cuda:N (auto: CUDA when available)
    seed: int = 0
    perception: str = "auto"
    ga: GAConfig = field(default_factory=GAConfig)

    def __post_init__(self) -> None:
        if self.manifold not in KINDS:
            raise NarError(f"unknown manifold {self.manifold!r}; choose one of {', '.join(KINDS)}")

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
            self._manifold = load_manifold(s.checkpoint, s.manifold, resolve_device(s.device), s.perception)
        return self._manifold

    def solve(self, puzzle: Puzzle, with_images: bool = False) -> Solution:
        """Answer ``puzzle``; ``with_images`` adds predicted boards to ``details`` (for figures).
        Ties are broken at random under the seed, and a puzzle the solver cannot read is answered
        with an abstention (:func:`nar_solver.solve.abstain.settle`)."""
        if self.needs_model:
            _ = self.manifold  # loading the model is not part of a puzzle's time
        start = time.perf_counter()
        solution = self._solve(puzzle, with_images)
        settle(puzzle, solution, self.settings.seed, self.settings.perception)
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
        from nar_solver.run.dimension_names import dimension_factors

        _, scorer = self.prepare(puzzle)
        return explain_rule(scorer, genome, dimension_factors(self.manifold.source))

    def prepare(self, puzzle: Puzzle) -> tuple[EncodedPuzzle, Scorer]:
        """Encode ``puzzle`` on the manifold and build the scorer of the configured distance."""
        encoded = encode_puzzle(puzzle, self.manifold)
        layout = GenomeLayout(encoded.n_slots, self.manifold.dims)
        config = self.settings.ga
        return encoded, Scorer(encoded, self.manifold, layout, config.distance, config.temperature)


def rule_solution(name: str, scorer: Scorer, genome: np.ndarray, with_images: bool, **details) -> Solution:
    """Score the query's options under one chromosome and self-check it on the examples."""
    genome_t = torch.from_numpy(np.asarray(genome, dtype=np.float32))[None]
    d_examples = scorer.distances(genome_t)[0]
    d_query = scorer.distances(genome_t, query=True)[0, 0]
    answers = scorer.encoded.answers
    separation = scorer.separations()
    solved = int(selfcheck.solved_mask(d_examples, answers, separation).sum())
    solution = solution_from_scores(-d_query.cpu().numpy(), scorer.temperature, name, solved,
                                    scorer.encoded.n_examples, genome=np.asarray(genome),
                                    margins=example_margins(d_examples, answers, scorer.temperature),
                                    reproduction=selfcheck.ratios(d_examples, answers, separation).tolist(),
                                    **details)
    slots = scorer.encoded.slots
    if not slots.consistent:
        solution.notes.append(f"examples disagree on the number of copies (output/input ratios "
                              f"{[None if r is None else round(r, 2) for r in slots.ratios]}); using {slots.slots}")
    if with_images:
        solution.details.update(predicted_images(scorer, genome_t))
    return solution


def predicted_images(scorer: Scorer, genome_t: torch.Tensor) -> dict[str, np.ndarray]:
    """Decoded predictions of one chromosome: ``predicted_examples`` (E, 64, 64) and
    ``predicted_query`` (64, 64), uint8 grey."""
    examples = composite_ink(scorer.manifold, scorer.predict(genome_t))[0]
    query = composite_ink(scorer.manifold, scorer.predict(genome_t, query=True))[0, 0]
    return {"predicted_examples": ink_to_grey(examples), "predicted_query": ink_to_grey(query[None])[0]}


class GASolver(Solver):
    """The genetic search over slot transformations in the object (or board) latent space."""

    name = "ga"
    needs_model = True

    def _solve(self, puzzle: Puzzle, with_images: bool) -> Solution:
        seed_everything(self.settings.seed)
        encoded, scorer = self.prepare(puzzle)
        config = self.settings.ga
        objective = Objective(scorer, match_weight(self.manifold.kind, config.match_weight), config.set_cost,
                              config.clamp_cost)
        result: GAResult = run_ga(objective, config, seed=self.settings.seed,
                                  starts=start_genomes(encoded, scorer.layout, config.starts))
        solution = rule_solution(self.name, scorer, result.best, with_images, logbook=result.logbook,
                                 generations=result.generations, stopped_early=result.stopped_early,
                                 slots=encoded.n_slots)
        members = result.hall_of_fame[: max(1, config.ensemble)]
        if len(members) > 1:
            batch = torch.from_numpy(np.stack(members).astype(np.float32))
            d = scorer.distances(batch, query=True)[:, 0]                               # (k, O)
            probs = torch.softmax(-d / scorer.temperature, dim=-1).mean(0).cpu().numpy()
            solution.answer = int(np.argmax(probs))
            solution.scores = (-d.mean(0)).cpu().numpy().tolist()
            solution.confidence = float(probs[solution.answer])
        return solution
