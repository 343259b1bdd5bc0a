"""The ground-truth world type: named factors with known sizes, sampled and rendered.

Every world of :mod:`nar_solver.data` (NAR objects, dSprites) names its factors, says how many values
each takes, draws random factor tuples and renders them (uint8 (N, 64, 64), 255 = white
background); training draws its batches from the same worlds (``draw(rng, n)``). The metrics only
ever see this interface and an encoder, so they are independent of torch and of any model.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from nar_solver.errors import NarError


@runtime_checkable
class FactorWorld(Protocol):
    """The sampling API the metrics use."""

    name: str
    factor_names: tuple[str, ...]
    factor_sizes: tuple[int, ...]
    #: Per factor: True for an unordered category (a shape), False for an ordered value (a position,
    #: a scale). SAP (Kumar et al. 2018) scores a categorical factor by classification, an ordered one
    #: by regression.
    categorical: tuple[bool, ...]

    def sample_factors(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Random factor indices (n, K), each factor uniform and independent."""

    def render(self, factors: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Factor indices (N, K) -> uint8 images (N, 64, 64).

        A world with rendering variation (nuisance that is not a factor, such as glyph stroke width)
        draws it from ``rng``: the number and kind of draws depend only on N, never on the factor
        values, so two renders of equally many scenes from equal generators share their nuisance row
        by row (an exact intervention changes the factor and nothing else). Without ``rng`` (or in a
        world without variation) the rendering is a fixed function of the factors.
        """


def uniform_factors(factor_sizes: tuple[int, ...], rng: np.random.Generator, n: int) -> np.ndarray:
    """Factor indices (n, K), factor k uniform over 0..factor_sizes[k]-1, all independent."""
    return np.stack([rng.integers(0, size, n) for size in factor_sizes], axis=1).astype(np.int64).reshape(
        n, len(factor_sizes))


def check_factor_indices(factors: np.ndarray, factor_sizes: tuple[int, ...], world: str) -> np.ndarray:
    """``factors`` as int64 (N, K) indices within ``factor_sizes``; a one-line NarError otherwise."""
    factors = np.asarray(factors)
    if factors.ndim != 2 or factors.shape[1] != len(factor_sizes):
        raise NarError(f"{world} factors must have shape (N, {len(factor_sizes)}), got {factors.shape}")
    if not np.issubdtype(factors.dtype, np.integer):
        raise NarError(f"{world} factors must be integer indices")
    if factors.size and ((factors < 0).any() or (factors >= np.asarray(factor_sizes)).any()):
        raise NarError(f"{world} factor index out of range; sizes are {factor_sizes}")
    return factors.astype(np.int64, copy=False)
