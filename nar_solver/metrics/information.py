"""Entropy and mutual information of discrete samples, and the equal-width binning that makes codes
discrete (MIG, Modularity and the unsupervised scores share them; docs/metrics.md)."""
from __future__ import annotations

import numpy as np


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
