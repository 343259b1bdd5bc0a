"""Mutual Information Gap (Chen et al. 2018), with the sample sizes of Locatello et al. (2019); docs/metrics.md.

Histogram each code dimension into 20 equal-width bins, take the mutual information of every
(dimension, factor) pair, and per factor the gap between the best and the second-best dimension
divided by the factor's entropy; averaged over factors. A function of (codes, factors) samples, so
it can be validated on synthetic codes directly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nar_solver.metrics.codes import check_samples
from nar_solver.metrics.information import discrete_entropy, discrete_mutual_information, histogram_discretize

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
    codes, factors = check_samples(codes, factors)
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
