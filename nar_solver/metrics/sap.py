"""SAP, Separated Attribute Predictability (Kumar et al. 2018); docs/metrics.md, "The rest of the suite".

A score matrix S (dimension x factor) from each dimension *alone*: the R^2 of a line for an ordered
factor, the balanced accuracy of thresholds on the dimension for a categorical one (a
scikit-learn decision tree on one feature); per factor the gap between the two best dimensions,
averaged.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nar_solver.errors import NarError
from nar_solver.metrics.codes import COLLAPSE_STD, active_dimensions, check_samples


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
    train_codes, train_factors = check_samples(train_codes, train_factors)
    test_codes, test_factors = check_samples(test_codes, test_factors)
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
