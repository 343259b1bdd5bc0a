"""FactorVAE score (Kim & Mnih 2018), with the sample sizes of Locatello et al. (2019); docs/metrics.md.

Prune collapsed code dimensions (std of the mean below 0.05 over a random sample), then cast votes:
fix one factor, draw a batch that varies all others, divide each dimension's variance by its
global variance and vote (factor, argmin dimension). A majority-vote classifier (dimension -> its
most frequent factor) is fitted on training votes and scored on fresh evaluation votes. Chance is
1 / number of factors. It needs "fix a factor" samples, so it takes an encoder and a world.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nar_solver.data.factors import FactorWorld
from nar_solver.metrics.codes import COLLAPSE_STD, active_dimensions
from nar_solver.metrics.sampling import Encoder, encode_factors, fix_factor, random_codes

@dataclass(frozen=True)
class FactorVAESettings:
    variance_samples: int = 10_000
    batch_size: int = 64  # L: images per vote (64 in the reference study, 100 in the paper)
    train_votes: int = 10_000
    eval_votes: int = 5_000
    collapse_std: float = COLLAPSE_STD


@dataclass
class FactorVAEResult:
    score: float  # accuracy of the majority-vote classifier on the evaluation votes
    train_accuracy: float
    active_dims: list[int]
    chance: float
    #: votes[j][k]: training votes for (active dimension j, factor k).
    votes: list[list[int]] = field(default_factory=list)


def _cast_votes(
    encode: Encoder,
    world: FactorWorld,
    rng: np.random.Generator,
    n_votes: int,
    batch_size: int,
    global_var: np.ndarray,
    active: np.ndarray,
    factor_ids: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(factor, argmin active dimension) for ``n_votes`` votes, factors drawn uniformly."""
    chosen = factor_ids[rng.integers(0, factor_ids.size, n_votes)]
    dims = np.empty(n_votes, dtype=np.int64)
    for k in np.unique(chosen):
        rows = np.flatnonzero(chosen == k)
        factors = fix_factor(world, rng, int(k), rows.size, batch_size)
        codes = encode_factors(encode, world, factors, rng)[:, active].reshape(rows.size, batch_size, -1)
        normalised = codes.var(axis=1) / global_var[active]
        dims[rows] = normalised.argmin(axis=1)
    return chosen, dims


def factorvae_score(encode: Encoder, world: FactorWorld, rng: np.random.Generator,
                    settings: FactorVAESettings = FactorVAESettings(),
                    global_codes: np.ndarray | None = None) -> FactorVAEResult:
    """Kim & Mnih's disentanglement score; ``global_codes`` reuses a random sample's codes."""
    global_codes = random_codes(encode, world, rng, settings.variance_samples, global_codes)
    factor_ids = np.flatnonzero(np.asarray(world.factor_sizes) > 1)
    chance = 1.0 / max(factor_ids.size, 1)
    active = active_dimensions(global_codes, settings.collapse_std)
    if not active.any() or factor_ids.size == 0:
        return FactorVAEResult(0.0, 0.0, [], chance, [])
    global_var = global_codes.var(axis=0)
    n_factors = len(world.factor_sizes)

    k_train, d_train = _cast_votes(encode, world, rng, settings.train_votes, settings.batch_size, global_var, active, factor_ids)
    votes = np.zeros((int(active.sum()), n_factors), dtype=np.int64)
    np.add.at(votes, (d_train, k_train), 1)
    classifier = votes.argmax(axis=1)
    train_accuracy = votes.max(axis=1).sum() / max(settings.train_votes, 1)

    k_eval, d_eval = _cast_votes(encode, world, rng, settings.eval_votes, settings.batch_size, global_var, active, factor_ids)
    score = float((classifier[d_eval] == k_eval).mean()) if settings.eval_votes else 0.0
    return FactorVAEResult(score, float(train_accuracy), np.flatnonzero(active).tolist(), chance, votes.tolist())
