"""DCI: disentanglement, completeness, informativeness (Eastwood & Williams 2018), with the sample
sizes of Locatello et al. (2019); docs/metrics.md.

Per factor a gradient-boosted tree classifier predicts it from the code; from the importance matrix
R (dimension x factor), disentanglement is 1 - entropy (base K) of each dimension's importance over
factors weighted by the dimension's share of importance, completeness the same per factor over
dimensions (base d), informativeness the mean test accuracy. A function of (codes, factors)
samples, so it can be validated on synthetic codes directly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nar_solver.metrics.codes import check_samples

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

    train_codes, train_factors = check_samples(train_codes, train_factors)
    test_codes, test_factors = check_samples(test_codes, test_factors)
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
