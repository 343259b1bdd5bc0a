"""Factor worlds: images generated from known discrete factors, the ground truth every metric needs.

A world names its factors, says how many values each takes, draws random factor tuples and
renders them (uint8 (N, 64, 64), 255 = white background). Metrics only ever see a world and an
``encode`` callable (images -> code means), so they are independent of torch and of any model.

Worlds here:
- :class:`DSpritesWorld`: procedural dSprites (shape 3, scale 6, orientation 40, posX 32, posY 32).
- :class:`NarObjectWorld`: one NAR glyph on the 3x3 board (shape 20, x 3, y 3).
- :class:`CodedWorld`: images that carry their own factor indices in pixels, so synthetic
  "encoders" with exactly known structure can validate the metrics.

The helpers below build the samples the metrics are made of: random scenes, "fix factor k and
vary the rest", and interventions "the same scene with only factor k changed".
"""
from __future__ import annotations

from typing import Callable, Protocol, runtime_checkable

import numpy as np

from nar_solver.errors import NarError

#: uint8 images (N, 64, 64) -> code means (N, d). Any model, or a synthetic code, fits.
Encoder = Callable[[np.ndarray], np.ndarray]

WORLD_NAMES = ("dsprites", "objects")


@runtime_checkable
class FactorWorld(Protocol):
    """The sampling API the metrics use."""

    name: str
    factor_names: tuple[str, ...]
    factor_sizes: tuple[int, ...]

    def sample_factors(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Random factor indices (n, K), each factor uniform and independent."""

    def render(self, factors: np.ndarray) -> np.ndarray:
        """Factor indices (N, K) -> uint8 images (N, 64, 64)."""


def uniform_factors(factor_sizes: tuple[int, ...], rng: np.random.Generator, n: int) -> np.ndarray:
    return np.stack([rng.integers(0, size, n) for size in factor_sizes], axis=1).astype(np.int64).reshape(n, len(factor_sizes))


def check_factor_indices(factors: np.ndarray, factor_sizes: tuple[int, ...], world: str) -> np.ndarray:
    factors = np.asarray(factors)
    if factors.ndim != 2 or factors.shape[1] != len(factor_sizes):
        raise NarError(f"{world} factors must have shape (N, {len(factor_sizes)}), got {factors.shape}")
    if not np.issubdtype(factors.dtype, np.integer):
        raise NarError(f"{world} factors must be integer indices")
    if factors.size and ((factors < 0).any() or (factors >= np.asarray(factor_sizes)).any()):
        raise NarError(f"{world} factor index out of range; sizes are {factor_sizes}")
    return factors.astype(np.int64, copy=False)


class DSpritesWorld:
    """Procedural dSprites (:mod:`nar_solver.data.dsprites`) as a factor world."""

    name = "dsprites"

    def __init__(self, geometry=None):
        from nar_solver.data import dsprites

        self._dsprites = dsprites
        self.geometry = geometry if geometry is not None else dsprites.DEFAULT_GEOMETRY
        self.factor_names = dsprites.FACTOR_NAMES
        self.factor_sizes = dsprites.FACTOR_SIZES

    def sample_factors(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self._dsprites.sample_factors(rng, n)

    def render(self, factors: np.ndarray) -> np.ndarray:
        return self._dsprites.render(factors, self.geometry)


class NarObjectWorld:
    """A single NAR object on the 3x3 board: factors shape (20 glyphs), x (3 columns), y (3 rows).

    Glyphs are drawn plain (no per-tile jitter), so each of the 180 factor tuples has exactly
    one image; they are rendered once and looked up.
    """

    name = "objects"
    factor_names = ("shape", "x", "y")

    def __init__(self):
        from nar_solver.world.board import GRID
        from nar_solver.world.glyphs import SHAPES

        self.shapes = tuple(SHAPES)
        self.factor_sizes = (len(self.shapes), GRID, GRID)
        self._images: np.ndarray | None = None

    def _table(self) -> np.ndarray:
        if self._images is None:
            from nar_solver.world.board import render_object

            n_shape, n_x, n_y = self.factor_sizes
            table = np.empty((n_shape, n_x, n_y, 64, 64), dtype=np.uint8)
            for s, shape in enumerate(self.shapes):
                for x in range(n_x):
                    for y in range(n_y):
                        table[s, x, y] = render_object(shape, x, y)
            self._images = table
        return self._images

    def sample_factors(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return uniform_factors(self.factor_sizes, rng, n)

    def render(self, factors: np.ndarray) -> np.ndarray:
        factors = check_factor_indices(factors, self.factor_sizes, self.name)
        return self._table()[factors[:, 0], factors[:, 1], factors[:, 2]]


class CodedWorld:
    """Blank images whose first pixel row holds the factor indices: ``image[0, k] = factor k``.

    Not a visual world: it exists so that metrics can be checked against synthetic encoders whose
    relation to the factors is known exactly (perfect, rotated, missing a factor, ...). Read the
    factors back with :meth:`decode`.
    """

    name = "coded"

    def __init__(self, factor_sizes: tuple[int, ...], factor_names: tuple[str, ...] | None = None):
        if not factor_sizes or any(not 1 <= s <= 256 for s in factor_sizes):
            raise NarError("CodedWorld factor sizes must be 1..256")
        self.factor_sizes = tuple(int(s) for s in factor_sizes)
        self.factor_names = tuple(factor_names) if factor_names else tuple(f"f{k}" for k in range(len(factor_sizes)))

    def sample_factors(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return uniform_factors(self.factor_sizes, rng, n)

    def render(self, factors: np.ndarray) -> np.ndarray:
        factors = check_factor_indices(factors, self.factor_sizes, self.name)
        images = np.full((factors.shape[0], 64, 64), 255, dtype=np.uint8)
        images[:, 0, : factors.shape[1]] = factors
        return images

    def decode(self, images: np.ndarray) -> np.ndarray:
        """The factor indices an image was rendered from, (N, K) int."""
        return np.asarray(images)[:, 0, : len(self.factor_sizes)].astype(np.int64)


def make_world(name: str) -> FactorWorld:
    """``"dsprites"`` or ``"objects"`` -> the world."""
    if name == "dsprites":
        return DSpritesWorld()
    if name == "objects":
        return NarObjectWorld()
    raise NarError(f"unknown factor world {name!r}; choose one of {', '.join(WORLD_NAMES)}")


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


def encode_factors(encode: Encoder, world: FactorWorld, factors: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """Render and encode in chunks (a full FactorVAE-score run renders ~10^6 images), -> (N, d) float64."""
    factors = np.asarray(factors)
    parts = []
    for start in range(0, factors.shape[0], chunk):
        codes = np.asarray(encode(world.render(factors[start : start + chunk])), dtype=np.float64)
        if codes.ndim != 2 or codes.shape[0] != min(chunk, factors.shape[0] - start):
            raise NarError(f"encoder returned codes of shape {codes.shape}; expected (batch, d)")
        parts.append(codes)
    if not parts:
        raise NarError("nothing to encode")
    return np.concatenate(parts, axis=0)


def sample_codes(encode: Encoder, world: FactorWorld, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random scenes -> (factors (n, K), codes (n, d))."""
    factors = world.sample_factors(rng, n)
    return factors, encode_factors(encode, world, factors)
