"""The rest of the standard supervised suite: beta-VAE score, SAP, Modularity and Explicitness.

Each is built from its paper (docs/metrics.md, "The rest of the suite"), with the sample sizes of
the large reference study (Locatello et al. 2019):

- **beta-VAE score** (Higgins et al. 2017): one vote fixes a factor k, draws L pairs of scenes that
  share factor k's value (everything else drawn independently), and averages the absolute
  difference of the two codes over the pairs; a linear (softmax) classifier predicts k from that
  vector. The score is its accuracy on fresh votes. Kim & Mnih (2018) point out that it stays
  near 1 when all but one factor are captured: the uncaptured factor is the class whose vector has
  no small entry. Only two or more missing factors become indistinguishable.
- **SAP** (Kumar et al. 2018): a score matrix S (dimension x factor) from each dimension *alone*:
  the R^2 of a line for an ordered factor, the balanced accuracy of thresholds on the dimension
  for a categorical one; per factor the gap between the two best dimensions, averaged.
- **Modularity** (Ridgeway & Mozer 2018): per dimension, how far its mutual information with the
  factors is from a template with only its best factor: ``1 - sum_{k != best} m_k^2 / (m_best^2 (K-1))``,
  averaged over dimensions.
- **Explicitness** (Ridgeway & Mozer 2018): per factor and value, a one-vs-rest logistic
  regression on the whole code; the mean ROC AUC on test samples. It asks whether each value is
  *linearly* decodable, so it is blind to rotations, and an ordered value in the middle of one
  axis cannot reach 1 (no single hyperplane cuts out a middle interval).

scikit-learn is a dependency already (DCI uses it); its logistic regression, decision tree and
scoring functions are used as building blocks, the metrics themselves are written here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nar_solver.data.factors import FactorWorld
from nar_solver.errors import NarError
from nar_solver.evaluate.factors import Encoder, encode_pair
from nar_solver.evaluate.metrics import COLLAPSE_STD, _check_samples, active_dimensions

# ----------------------------------------------------------------------------------------------
# beta-VAE score


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


def _standardise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both scaled by the training mean and std (a constant column is only centred): a linear
    classifier's capacity does not change, but its L2 penalty then means the same for every code scale."""
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    return (train - mean) / std, (test - mean) / std


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
    x_train, x_eval = _standardise(x_train, x_eval)
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


# ----------------------------------------------------------------------------------------------
# SAP


@dataclass
class SAPResult:
    score: float  # mean over factors of the gap between the two most predictive single dimensions
    per_factor: list[float]
    #: scores[j][k]: how well dimension j alone predicts factor k (R^2, or chance-adjusted balanced accuracy).
    scores: list[list[float]]


def squared_correlation(z: np.ndarray, y: np.ndarray) -> float:
    """R^2 of the least-squares line y ~ a z + b, i.e. corr(z, y)^2; 0 when either is constant."""
    z, y = np.asarray(z, dtype=np.float64), np.asarray(y, dtype=np.float64)
    zc, yc = z - z.mean(), y - y.mean()
    denominator = np.sqrt((zc**2).sum() * (yc**2).sum())
    return float((zc * yc).sum() ** 2 / denominator**2) if denominator > 0 else 0.0


def threshold_accuracy(z_train: np.ndarray, y_train: np.ndarray, z_test: np.ndarray, y_test: np.ndarray) -> float:
    """Balanced test accuracy of thresholds fitted on one dimension (Kumar et al.'s categorical case),
    adjusted for chance: 0 for a dimension that tells nothing, 1 for one that separates every value.

    The thresholds are a decision tree on the single dimension with at most one interval per value
    and classes weighted equally (what "balanced" asks of the fit)."""
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.tree import DecisionTreeClassifier

    n_values = np.unique(y_train).size
    if n_values < 2:
        return 0.0
    tree = DecisionTreeClassifier(max_leaf_nodes=n_values, class_weight="balanced", random_state=0)
    tree.fit(np.asarray(z_train).reshape(-1, 1), y_train)
    predicted = tree.predict(np.asarray(z_test).reshape(-1, 1))
    # Adjusted: (balanced accuracy - 1/n) / (1 - 1/n), on the same 0..1 scale as R^2.
    return float(max(balanced_accuracy_score(y_test, predicted, adjusted=True), 0.0))


def sap_matrix(train_codes: np.ndarray, train_factors: np.ndarray, test_codes: np.ndarray, test_factors: np.ndarray,
               categorical: tuple[bool, ...], collapse_std: float = COLLAPSE_STD) -> np.ndarray:
    """S (d x K): each dimension alone against each factor, fitted on train, scored on test.
    Collapsed dimensions (std below ``collapse_std``) score 0, as in Kumar et al."""
    active = active_dimensions(train_codes, collapse_std)
    d, k_count = train_codes.shape[1], train_factors.shape[1]
    scores = np.zeros((d, k_count))
    for k in range(k_count):
        for j in np.flatnonzero(active):
            if categorical[k]:
                scores[j, k] = threshold_accuracy(train_codes[:, j], train_factors[:, k], test_codes[:, j],
                                                  test_factors[:, k])
            else:
                scores[j, k] = squared_correlation(test_codes[:, j], test_factors[:, k])
    return scores


def sap(train_codes: np.ndarray, train_factors: np.ndarray, test_codes: np.ndarray, test_factors: np.ndarray,
        categorical: tuple[bool, ...] | None = None, collapse_std: float = COLLAPSE_STD) -> SAPResult:
    """Kumar et al.'s Separated Attribute Predictability. ``categorical[k]`` picks classification
    for factor k (default: every factor ordered, scored by R^2). Factors constant in the sample are
    left out of the mean."""
    train_codes, train_factors = _check_samples(train_codes, train_factors)
    test_codes, test_factors = _check_samples(test_codes, test_factors)
    k_count = train_factors.shape[1]
    categorical = tuple(categorical) if categorical is not None else (False,) * k_count
    if len(categorical) != k_count:
        raise NarError(f"SAP needs one categorical flag per factor ({k_count}), got {len(categorical)}")
    scores = sap_matrix(train_codes, train_factors, test_codes, test_factors, categorical, collapse_std)
    ordered = np.sort(scores, axis=0)[::-1]
    second = ordered[1] if scores.shape[0] > 1 else np.zeros(k_count)
    varying = np.array([np.unique(train_factors[:, k]).size > 1 for k in range(k_count)])
    gaps = np.where(varying, ordered[0] - second, np.nan)
    score = float(np.nanmean(gaps)) if varying.any() else 0.0
    return SAPResult(score, [float(g) for g in gaps], scores.tolist())


# ----------------------------------------------------------------------------------------------
# Modularity and Explicitness


@dataclass
class ModularityResult:
    modularity: float  # mean over active dimensions that carry information
    per_dimension: list[float]  # nan for collapsed or uninformative dimensions
    explicitness: float  # mean one-vs-rest ROC AUC over factors and values
    explicitness_per_factor: list[float]  # nan for a factor constant in the sample
    active_dims: list[int] = field(default_factory=list)


def modularity_from_mi(mutual_information: np.ndarray) -> np.ndarray:
    """Ridgeway & Mozer's per-dimension modularity of an MI matrix (d x K); nan where a dimension has
    no information (its best MI is 0) or there is a single factor."""
    mi = np.asarray(mutual_information, dtype=np.float64)
    d, k_count = mi.shape
    best = mi.max(axis=1)
    if k_count < 2:
        return np.full(d, np.nan)
    off_template = (mi**2).sum(axis=1) - best**2  # squared deviation from "only the best factor"
    with np.errstate(divide="ignore", invalid="ignore"):
        per_dim = 1.0 - off_template / (best**2 * (k_count - 1))
    return np.where(best > 0, per_dim, np.nan)


def explicitness_per_factor(train_codes: np.ndarray, train_factors: np.ndarray, test_codes: np.ndarray,
                            test_factors: np.ndarray) -> list[float]:
    """Per factor, the mean over its values of the test ROC AUC of a one-vs-rest logistic regression
    on the whole (standardised) code. A value absent from train or test is skipped."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    x_train, x_test = _standardise(train_codes, test_codes)
    out = []
    for k in range(train_factors.shape[1]):
        aucs = []
        for value in np.unique(train_factors[:, k]):
            y_train, y_test = train_factors[:, k] == value, test_factors[:, k] == value
            if y_train.all() or not y_test.any() or y_test.all():
                continue
            model = LogisticRegression(max_iter=2000).fit(x_train, y_train)
            aucs.append(roc_auc_score(y_test, model.decision_function(x_test)))
        out.append(float(np.mean(aucs)) if aucs else float("nan"))
    return out


def modularity_explicitness(train_codes: np.ndarray, train_factors: np.ndarray, test_codes: np.ndarray,
                            test_factors: np.ndarray, mutual_information: np.ndarray,
                            collapse_std: float = COLLAPSE_STD) -> ModularityResult:
    """Both of Ridgeway & Mozer's scores. ``mutual_information`` (d x K) is MIG's histogram estimate
    on the training sample (the same 20 bins). Collapsed dimensions are left out of modularity: their
    sampling noise would otherwise score as arbitrary, meaningless modularity."""
    train_codes, train_factors = _check_samples(train_codes, train_factors)
    test_codes, test_factors = _check_samples(test_codes, test_factors)
    active = active_dimensions(train_codes, collapse_std)
    per_dim = np.where(active, modularity_from_mi(mutual_information), np.nan)
    modularity = float(np.nanmean(per_dim)) if np.isfinite(per_dim).any() else 0.0
    explicit = explicitness_per_factor(train_codes, train_factors, test_codes, test_factors)
    explicitness = float(np.nanmean(explicit)) if np.isfinite(explicit).any() else 0.0
    return ModularityResult(modularity, [float(v) for v in per_dim], explicitness, explicit,
                            np.flatnonzero(active).tolist())
