"""Samples the metrics are made of, from a factor world (:class:`nar_solver.data.factors.FactorWorld`).

The worlds themselves (NAR objects, dSprites) are the training sources of :mod:`nar_solver.data`;
here are the helpers that build random scenes, "fix factor k and vary the rest", and interventions
"the same scene with only factor k changed", and encode them. Metrics only ever see a world and an
``encode`` callable (images -> code means), so they are independent of torch and of any model.

:class:`CodedWorld` is a world whose images carry their own factor indices in pixels, so synthetic
"encoders" with exactly known structure can validate the metrics.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from nar_solver.data.factors import FactorWorld, check_factor_indices, uniform_factors
from nar_solver.errors import NarError
from nar_solver.world.board import IMAGE_SIZE

#: uint8 images (N, 64, 64) -> code means (N, d). Any model, or a synthetic code, fits.
Encoder = Callable[[np.ndarray], np.ndarray]


class CodedWorld:
    """Blank images whose first pixel row holds the factor indices: ``image[0, k] = factor k``.

    Not a visual world: it exists so that metrics can be checked against synthetic encoders whose
    relation to the factors is known exactly (perfect, rotated, missing a factor, ...). Read the
    factors back with :meth:`decode`.
    """

    name = "coded"

    def __init__(self, factor_sizes: tuple[int, ...], factor_names: tuple[str, ...] | None = None,
                 categorical: tuple[bool, ...] | None = None):
        if not factor_sizes or any(not 1 <= s <= 256 for s in factor_sizes):
            raise NarError("CodedWorld factor sizes must be 1..256")
        self.factor_sizes = tuple(int(s) for s in factor_sizes)
        self.factor_names = tuple(factor_names) if factor_names else tuple(f"f{k}" for k in range(len(factor_sizes)))
        self.categorical = tuple(bool(c) for c in categorical) if categorical else (False,) * len(self.factor_sizes)
        if len(self.categorical) != len(self.factor_sizes):
            raise NarError("CodedWorld needs one categorical flag per factor")

    def sample_factors(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return uniform_factors(self.factor_sizes, rng, n)

    def render(self, factors: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """The factor indices written into blank images; no nuisance, so ``rng`` is unused."""
        factors = check_factor_indices(factors, self.factor_sizes, self.name)
        images = np.full((factors.shape[0], IMAGE_SIZE, IMAGE_SIZE), 255, dtype=np.uint8)
        images[:, 0, : factors.shape[1]] = factors
        return images

    def decode(self, images: np.ndarray) -> np.ndarray:
        """The factor indices an image was rendered from, (N, K) int."""
        return np.asarray(images)[:, 0, : len(self.factor_sizes)].astype(np.int64)


# ----------------------------------------------------------------------------------------------
# Samples the metrics are built from


def fix_factor(world: FactorWorld, rng: np.random.Generator, k: int, groups: int, group_size: int) -> np.ndarray:
    """``groups`` groups of ``group_size`` scenes; within a group factor k has one (random) value
    and every other factor varies. Returns indices (groups * group_size, K), group-major."""
    factors = world.sample_factors(rng, groups * group_size)
    values = rng.integers(0, world.factor_sizes[k], groups)
    factors[:, k] = np.repeat(values, group_size)
    return factors


def intervene(world: FactorWorld, rng: np.random.Generator, factors: np.ndarray, k: int) -> np.ndarray:
    """The same scenes with only factor k changed, to a different value drawn uniformly."""
    size = world.factor_sizes[k]
    if size < 2:
        raise NarError(f"cannot intervene on factor {world.factor_names[k]!r}: it has a single value")
    changed = np.array(factors, dtype=np.int64, copy=True)
    # Adding 1..size-1 modulo size gives every other value with equal probability.
    changed[:, k] = (changed[:, k] + rng.integers(1, size, changed.shape[0])) % size
    return changed


def encode_pair(encode: Encoder, world: FactorWorld, rng: np.random.Generator, first: np.ndarray,
                second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of two equally long scene lists rendered with the *same* nuisance row by row (one seed,
    two equal generators; the FactorWorld contract), so their difference is the factors' alone."""
    seed = int(rng.integers(0, 2**63))
    return (encode_factors(encode, world, first, np.random.default_rng(seed)),
            encode_factors(encode, world, second, np.random.default_rng(seed)))


def encode_factors(encode: Encoder, world: FactorWorld, factors: np.ndarray, rng: np.random.Generator | None = None,
                   chunk: int = 2048) -> np.ndarray:
    """Render (nuisance drawn from ``rng``) and encode in chunks (a full FactorVAE-score run renders
    ~10^6 images), -> (N, d) float64."""
    factors = np.asarray(factors)
    parts = []
    for start in range(0, factors.shape[0], chunk):
        codes = np.asarray(encode(world.render(factors[start : start + chunk], rng)), dtype=np.float64)
        if codes.ndim != 2 or codes.shape[0] != min(chunk, factors.shape[0] - start):
            raise NarError(f"encoder returned codes of shape {codes.shape}; expected (batch, d)")
        parts.append(codes)
    if not parts:
        raise NarError("nothing to encode")
    return np.concatenate(parts, axis=0)


def sample_codes(encode: Encoder, world: FactorWorld, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random scenes -> (factors (n, K), codes (n, d))."""
    factors = world.sample_factors(rng, n)
    return factors, encode_factors(encode, world, factors, rng)


def random_codes(encode: Encoder, world: FactorWorld, rng: np.random.Generator, n: int,
                 codes: np.ndarray | None = None) -> np.ndarray:
    """The codes of ``n`` random scenes as float64 (what metrics normalise variances by), or the
    ``codes`` a caller already has."""
    if codes is None:
        _, codes = sample_codes(encode, world, rng, n)
    return np.asarray(codes, dtype=np.float64)
