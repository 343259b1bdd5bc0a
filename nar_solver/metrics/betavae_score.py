"""beta-VAE score (Higgins et al. 2017), with the sample sizes of Locatello et al. (2019); docs/metrics.md,
"The rest of the suite".

One vote fixes a factor k, draws L pairs of scenes that share factor k's value (everything else
drawn independently), and averages the absolute difference of the two codes over the pairs; a
linear (softmax) classifier predicts k from that vector. The score is its accuracy on fresh votes.
Kim & Mnih (2018) point out that it stays near 1 when all but one factor are captured: the
uncaptured factor is the class whose vector has no small entry. Only two or more missing factors
become indistinguishable. scikit-learn's logistic regression is the classifier.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nar_solver.data.factors import FactorWorld
from nar_solver.metrics.codes import standardise
from nar_solver.metrics.sampling import Encoder, encode_pair


@dataclass(frozen=True)
class BetaVAESettings:
    batch_size: int = 64  # L: pairs averaged per vote (the reference study's 64)
    train_votes: int = 10_000
    eval_votes: int = 5_000


@dataclass
class BetaVAEResult:
    score: float  # accuracy of the linear classifier on the evaluation votes
    train_accuracy: float
    chance: float
    per_factor: list[float]  # evaluation accuracy on the votes that fixed each factor (nan: none)


def pair_difference_votes(encode: Encoder, world: FactorWorld, rng: np.random.Generator, n_votes: int,
                          batch_size: int, factor_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fixed factor, mean |z(a) - z(b)| over ``batch_size`` pairs sharing it) for ``n_votes`` votes.

    The two scenes of a pair share the fixed factor and their rendering nuisance (so the difference
    is the other factors'), as in Higgins et al.'s pairs of images with one generative factor fixed."""
    chosen = factor_ids[rng.integers(0, factor_ids.size, n_votes)]
    features: np.ndarray | None = None
    for k in np.unique(chosen):
        rows = np.flatnonzero(chosen == k)
        first = world.sample_factors(rng, rows.size * batch_size)
        second = world.sample_factors(rng, rows.size * batch_size)
        second[:, k] = first[:, k]
        code_a, code_b = encode_pair(encode, world, rng, first, second)
        mean_diff = np.abs(code_a - code_b).reshape(rows.size, batch_size, -1).mean(axis=1)
        if features is None:
            features = np.zeros((n_votes, mean_diff.shape[1]))
        features[rows] = mean_diff
    return chosen, features


def betavae_score(encode: Encoder, world: FactorWorld, rng: np.random.Generator,
                  settings: BetaVAESettings = BetaVAESettings()) -> BetaVAEResult:
    """Higgins et al.'s score: a multinomial logistic regression (the paper's low-capacity linear
    classifier) predicts the fixed factor from mean absolute pair differences."""
    from sklearn.linear_model import LogisticRegression

    factor_ids = np.flatnonzero(np.asarray(world.factor_sizes) > 1)
    chance = 1.0 / max(factor_ids.size, 1)
    per_factor = [float("nan")] * len(world.factor_sizes)
    if factor_ids.size < 2 or settings.train_votes < 1 or settings.eval_votes < 1:
        return BetaVAEResult(1.0 if factor_ids.size == 1 else 0.0, 1.0 if factor_ids.size == 1 else 0.0,
                             chance, per_factor)
    k_train, x_train = pair_difference_votes(encode, world, rng, settings.train_votes, settings.batch_size, factor_ids)
    k_eval, x_eval = pair_difference_votes(encode, world, rng, settings.eval_votes, settings.batch_size, factor_ids)
    x_train, x_eval = standardise(x_train, x_eval)
    if np.unique(k_train).size < 2:  # too few votes to see two classes: nothing to learn
        predicted_train = np.full_like(k_train, k_train[0])
        predicted_eval = np.full_like(k_eval, k_train[0])
    else:
        model = LogisticRegression(max_iter=2000).fit(x_train, k_train)
        predicted_train, predicted_eval = model.predict(x_train), model.predict(x_eval)
    for k in factor_ids:
        rows = k_eval == k
        if rows.any():
            per_factor[k] = float((predicted_eval[rows] == k).mean())
    return BetaVAEResult(float((predicted_eval == k_eval).mean()), float((predicted_train == k_train).mean()),
                         chance, per_factor)
