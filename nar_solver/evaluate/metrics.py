"""Disentanglement metrics against ground-truth factors: FactorVAE score, MIG and DCI.

Each follows docs/metrics.md (Kim & Mnih 2018; Chen et al. 2018; Eastwood &
Williams 2018, with the sample sizes of the large reference study by Locatello et al. 2019):

- FactorVAE score: prune collapsed code dimensions (std of the mean below 0.05 over a random
  sample), then cast votes: fix one factor, draw a batch that varies all others, divide each
  dimension's variance by its global variance and vote (factor, argmin dimension). A majority-vote
  classifier (dimension -> its most frequent factor) is fitted on training votes and scored on
  fresh evaluation votes. Chance is 1 / number of factors.
- MIG: histogram each code dimension into 20 equal-width bins, take the mutual information of
  every (dimension, factor) pair, and per factor the gap between the best and the second-best
  dimension divided by the factor's entropy; averaged over factors.
- DCI: per factor a gradient-boosted tree classifier predicts it from the code; from the
  importance matrix R (dimension x factor), disentanglement is 1 - entropy (base K) of each
  dimension's importance over factors weighted by the dimension's share of importance,
  completeness the same per factor over dimensions (base d), informativeness the mean test
  accuracy.

FactorVAE score needs "fix a factor" samples, so it takes an encoder and a world; MIG and DCI are
functions of (codes, factors) samples, so they can be validated on synthetic codes directly.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nar_solver.errors import NarError
from nar_solver.data.factors import FactorWorld
from nar_solver.evaluate.factors import Encoder, encode_factors, fix_factor, random_codes

#: Dimensions whose code mean varies less than this (std over random scenes) count as collapsed.
COLLAPSE_STD = 0.05


# ----------------------------------------------------------------------------------------------
# Shared helpers


def active_dimensions(codes: np.ndarray, threshold: float = COLLAPSE_STD) -> np.ndarray:
    """Boolean mask of code dimensions whose std over a random sample reaches ``threshold``."""
    return np.asarray(codes).std(axis=0) >= threshold


def discrete_entropy(labels: np.ndarray) -> float:
    """Entropy (nats) of the empirical distribution of integer labels."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64))
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def discrete_mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """Mutual information (nats) between two integer label arrays, from their contingency table."""
    a = np.unique(np.asarray(a), return_inverse=True)[1]
    b = np.unique(np.asarray(b), return_inverse=True)[1]
    n_b = int(b.max()) + 1 if b.size else 1
    joint = np.bincount(a * n_b + b, minlength=(int(a.max()) + 1) * n_b).reshape(-1, n_b) / a.size
    pa = joint.sum(axis=1, keepdims=True)
    pb = joint.sum(axis=0, keepdims=True)
    nz = joint > 0
    return float(max((joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])).sum(), 0.0))


def histogram_discretize(codes: np.ndarray, bins: int = 20) -> np.ndarray:
    """Each dimension cut into ``bins`` equal-width bins over its own range -> ints (N, d) in 0..bins-1."""
    codes = np.asarray(codes, dtype=np.float64)
    out = np.empty(codes.shape, dtype=np.int64)
    for j in range(codes.shape[1]):
        edges = np.histogram_bin_edges(codes[:, j], bins=bins)
        out[:, j] = np.clip(np.digitize(codes[:, j], edges[1:-1]), 0, bins - 1)
    return out


def _check_samples(codes: np.ndarray, factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes = np.asarray(codes, dtype=np.float64)
    factors = np.asarray(factors)
    if codes.ndim != 2 or factors.ndim != 2 or codes.shape[0] != factors.shape[0]:
        raise NarError(f"codes {codes.shape} and factors {factors.shape} must be (N, d) and (N, K)")
    if codes.shape[0] < 2:
        raise NarError("need at least two samples")
    if not np.isfinite(codes).all():
        raise NarError("codes contain NaN or infinity")
    return codes, factors.astype(np.int64)


# ----------------------------------------------------------------------------------------------
# FactorVAE score


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


# ----------------------------------------------------------------------------------------------
# MIG


@dataclass(frozen=True)
class MIGSettings:
    samples: int = 10_000
    bins: int = 20


@dataclass
class MIGResult:
    score: float  # mean over factors of the normalised gap
    per_factor: list[float]
    #: mutual_information[j][k] in nats, dimension j x factor k.
    mutual_information: list[list[float]]
    factor_entropy: list[float]


def mig(codes: np.ndarray, factors: np.ndarray, bins: int = 20) -> MIGResult:
    """Mutual Information Gap of codes (N, d) against factor indices (N, K).

    Factors that do not vary in the sample (zero entropy) are left out of the average.
    """
    codes, factors = _check_samples(codes, factors)
    binned = histogram_discretize(codes, bins)
    d, k_count = codes.shape[1], factors.shape[1]
    mi = np.array([[discrete_mutual_information(binned[:, j], factors[:, k]) for k in range(k_count)] for j in range(d)])
    entropy = np.array([discrete_entropy(factors[:, k]) for k in range(k_count)])
    ordered = np.sort(mi, axis=0)[::-1]
    second = ordered[1] if d > 1 else np.zeros(k_count)
    varying = entropy > 0
    gaps = np.where(varying, (ordered[0] - second) / np.where(varying, entropy, 1.0), np.nan)
    score = float(np.nanmean(gaps)) if varying.any() else 0.0
    return MIGResult(score, [float(g) for g in gaps], mi.tolist(), entropy.tolist())


# ----------------------------------------------------------------------------------------------
# DCI


@dataclass(frozen=True)
class DCISettings:
    train_samples: int = 10_000
    test_samples: int = 5_000
    trees: int = 100  # scikit-learn's GradientBoostingClassifier default, as in the reference study
    max_depth: int = 3


@dataclass
class DCIResult:
    disentanglement: float
    completeness: float
    informativeness: float  # mean test accuracy over factors
    train_accuracy: list[float]
    test_accuracy: list[float]
    #: importance[j][k]: importance of dimension j for predicting factor k.
    importance: list[list[float]]


def _entropy_rows(matrix: np.ndarray, base: int) -> np.ndarray:
    """Entropy (log base ``base``) of each row of a non-negative matrix, rows normalised to sum 1."""
    sums = matrix.sum(axis=1, keepdims=True)
    p = np.divide(matrix, sums, out=np.zeros_like(matrix), where=sums > 0)
    logs = np.log(p, out=np.zeros_like(p), where=p > 0)
    return -(p * logs).sum(axis=1) / np.log(base)


def dci_from_importance(importance: np.ndarray) -> tuple[float, float]:
    """(disentanglement, completeness) of an importance matrix (d dimensions x K factors)."""
    importance = np.abs(np.asarray(importance, dtype=np.float64))
    d, k = importance.shape
    total = importance.sum()
    if total <= 0:
        return 0.0, 0.0
    code_weight = importance.sum(axis=1) / total
    factor_weight = importance.sum(axis=0) / total
    per_code = 1.0 - _entropy_rows(importance, k) if k > 1 else np.ones(d)
    per_factor = 1.0 - _entropy_rows(importance.T, d) if d > 1 else np.ones(k)
    return float((per_code * code_weight).sum()), float((per_factor * factor_weight).sum())


def dci(
    train_codes: np.ndarray,
    train_factors: np.ndarray,
    test_codes: np.ndarray,
    test_factors: np.ndarray,
    settings: DCISettings = DCISettings(),
    seed: int = 0,
) -> DCIResult:
    """Eastwood & Williams' DCI with one gradient-boosted classifier per factor (scikit-learn)."""
    from sklearn.ensemble import GradientBoostingClassifier

    train_codes, train_factors = _check_samples(train_codes, train_factors)
    test_codes, test_factors = _check_samples(test_codes, test_factors)
    d, k_count = train_codes.shape[1], train_factors.shape[1]
    importance = np.zeros((d, k_count))
    train_acc, test_acc = [], []
    for k in range(k_count):
        y_train, y_test = train_factors[:, k], test_factors[:, k]
        if np.unique(y_train).size < 2:  # nothing to predict: no importance, trivially accurate
            train_acc.append(1.0)
            test_acc.append(float((y_test == y_train[0]).mean()))
            continue
        model = GradientBoostingClassifier(n_estimators=settings.trees, max_depth=settings.max_depth, random_state=seed)
        model.fit(train_codes, y_train)
        importance[:, k] = model.feature_importances_
        train_acc.append(float((model.predict(train_codes) == y_train).mean()))
        test_acc.append(float((model.predict(test_codes) == y_test).mean()))
    disentanglement, completeness = dci_from_importance(importance)
    return DCIResult(disentanglement, completeness, float(np.mean(test_acc)), train_acc, test_acc, importance.tolist())
