"""Modularity and Explicitness (Ridgeway & Mozer 2018); docs/metrics.md, "The rest of the suite".

- **Modularity**: per dimension, how far its mutual information with the factors is from a
  template with only its best factor: ``1 - sum_{k != best} m_k^2 / (m_best^2 (K-1))``, averaged
  over dimensions.
- **Explicitness**: per factor and value, a one-vs-rest logistic regression on the whole code; the
  mean ROC AUC on test samples. It asks whether each value is *linearly* decodable, so it is blind
  to rotations, and an ordered value in the middle of one axis cannot reach 1 (no single
  hyperplane cuts out a middle interval).

The paper defines the two together, and they share one train/test sample, so they live together.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nar_solver.metrics.codes import COLLAPSE_STD, active_dimensions, check_samples, standardise


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

    x_train, x_test = standardise(train_codes, test_codes)
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
    train_codes, train_factors = check_samples(train_codes, train_factors)
    test_codes, test_factors = check_samples(test_codes, test_factors)
    active = active_dimensions(train_codes, collapse_std)
    per_dim = np.where(active, modularity_from_mi(mutual_information), np.nan)
    modularity = float(np.nanmean(per_dim)) if np.isfinite(per_dim).any() else 0.0
    explicit = explicitness_per_factor(train_codes, train_factors, test_codes, test_factors)
    explicitness = float(np.nanmean(explicit)) if np.isfinite(explicit).any() else 0.0
    return ModularityResult(modularity, [float(v) for v in per_dim], explicitness, explicit,
                            np.flatnonzero(active).tolist())
