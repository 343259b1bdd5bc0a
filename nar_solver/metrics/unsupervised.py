"""The unsupervised scores of the large reference study (Locatello et al. 2019): no factors needed.

- **Gaussian total correlation**: fit a Gaussian to the codes of a random sample and take its total
  correlation, ``KL(N(mu, S) || prod_j N(mu_j, S_jj)) = (sum_j log S_jj - log det S) / 2`` nats.
  0 for uncorrelated dimensions. It sees linear dependence only: a rotation of independent,
  unit-variance dimensions keeps the covariance the identity and scores 0 too.
- **Mutual information score**: each dimension histogrammed into 20 equal-width bins (as for MIG),
  the mean mutual information (nats) over all ordered pairs of distinct dimensions: the
  off-diagonal mass of the dimension x dimension MI matrix. It also sees non-linear dependence, so
  it does notice a rotation of independent non-Gaussian dimensions.

Both are lower-is-better and unbounded (nats), unlike the [0, 1] supervised scores. Like every
metric here they are computed on the posterior means (what an encoder returns), and collapsed
dimensions are kept: the study's definitions take the code as it is.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nar_solver.errors import NarError
from nar_solver.metrics.information import discrete_mutual_information, histogram_discretize


@dataclass
class UnsupervisedResult:
    gaussian_total_correlation: float  # nats, >= 0
    mutual_info_score: float  # nats, mean off-diagonal MI between code dimensions
    #: mutual_information[i][j] (nats) between code dimensions i and j; the diagonal is each one's entropy.
    mutual_information: list[list[float]]


def _check_codes(codes: np.ndarray) -> np.ndarray:
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2 or codes.shape[0] < 2:
        raise NarError(f"codes must be (N >= 2, d), got {codes.shape}")
    if not np.isfinite(codes).all():
        raise NarError("codes contain NaN or infinity")
    return codes


def gaussian_total_correlation(codes: np.ndarray) -> float:
    """Total correlation (nats) of the Gaussian fitted to ``codes`` (N, d). Constant dimensions carry
    no correlation and are dropped (their log-variance would be minus infinity)."""
    codes = _check_codes(codes)
    varying = codes.std(axis=0) > 1e-12
    if varying.sum() < 2:
        return 0.0
    covariance = np.atleast_2d(np.cov(codes[:, varying], rowvar=False))
    sign, log_det = np.linalg.slogdet(covariance)
    if sign <= 0:  # exactly dependent dimensions (one a linear function of others): no finite density
        return float("inf")
    return float(max(0.5 * (np.log(np.diag(covariance)).sum() - log_det), 0.0))


def code_mutual_information(codes: np.ndarray, bins: int = 20) -> np.ndarray:
    """Histogram estimate (nats) of the MI between every pair of code dimensions, (d, d) symmetric."""
    binned = histogram_discretize(_check_codes(codes), bins)
    d = binned.shape[1]
    mi = np.zeros((d, d))
    for i in range(d):
        for j in range(i, d):
            mi[i, j] = mi[j, i] = discrete_mutual_information(binned[:, i], binned[:, j])
    return mi


def mutual_info_score(mutual_information: np.ndarray) -> float:
    """Mean of the off-diagonal entries of a (d, d) MI matrix; 0 for a one-dimensional code."""
    mi = np.asarray(mutual_information, dtype=np.float64)
    d = mi.shape[0]
    if d < 2:
        return 0.0
    return float((mi.sum() - np.trace(mi)) / (d * d - d))


def unsupervised_scores(codes: np.ndarray, bins: int = 20) -> UnsupervisedResult:
    """Both scores of one random sample's codes."""
    mi = code_mutual_information(codes, bins)
    return UnsupervisedResult(gaussian_total_correlation(codes), mutual_info_score(mi), mi.tolist())
