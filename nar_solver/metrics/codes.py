"""What the disentanglement metrics share about code samples: collapsed dimensions, the shape check,
and standardising a train/test pair for a linear classifier."""
from __future__ import annotations

import numpy as np

from nar_solver.errors import NarError

#: Dimensions whose code mean varies less than this (std over random scenes) count as collapsed.
COLLAPSE_STD = 0.05


def active_dimensions(codes: np.ndarray, threshold: float = COLLAPSE_STD) -> np.ndarray:
    """Boolean mask of code dimensions whose std over a random sample reaches ``threshold``."""
    return np.asarray(codes).std(axis=0) >= threshold


def check_samples(codes: np.ndarray, factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes as float64, factors as int64) of an (N, d) and (N, K) sample with N >= 2 and finite
    codes; a NarError names what is wrong otherwise."""
    codes = np.asarray(codes, dtype=np.float64)
    factors = np.asarray(factors)
    if codes.ndim != 2 or factors.ndim != 2 or codes.shape[0] != factors.shape[0]:
        raise NarError(f"codes {codes.shape} and factors {factors.shape} must be (N, d) and (N, K)")
    if codes.shape[0] < 2:
        raise NarError("need at least two samples")
    if not np.isfinite(codes).all():
        raise NarError("codes contain NaN or infinity")
    return codes, factors.astype(np.int64)


def standardise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both scaled by the training mean and std (a constant column is only centred): a linear
    classifier's capacity does not change, but its L2 penalty then means the same for every code scale."""
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    return (train - mean) / std, (test - mean) / std
