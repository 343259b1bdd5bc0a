"""The images the manifold probe encodes (docs/probe.md): numpy only, no model.

Three sets, all single-object boards (docs/world.md: one glyph in one cell of the 3x3 board):

- :func:`grid_images`: the clean render of every (shape, cell), 20 x 9 = 180 images, ordered
  shape-major, then row y, then column x, so ``images.reshape(20, 3, 3, 64, 64)[s, y, x]`` is
  shape ``s`` in cell (x, y).
- :func:`varied_images`: ``samples`` renders per (shape, cell) with the training source's
  rendering variation (``ObjectsSource(variation=True)`` of nar_solver/data/sources.py: position
  jitter and jittered glyph redraws), for the shape-separation measure.
- :func:`position_sweep`: one shape moved continuously over the board in whole and sub-pixel
  steps, for the latent-space figure of the spatial broadcast paper (Watters et al. 2019).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from nar_solver.errors import NarError
from nar_solver.world.board import GRID, TILE, Board, render_board
from nar_solver.world.glyphs import SHAPES

CELLS = GRID * GRID
#: Upper bounds for the sizes a user can set (they bound memory and time, not the measures).
MAX_SAMPLES = 256
MAX_SWEEP = 64


def grid_images(shapes: tuple[str, ...] = SHAPES) -> np.ndarray:
    """Clean renders (len(shapes) * 9, 64, 64) uint8, ordered (shape, y, x)."""
    return np.stack([render_board(Board.of([(s, x, y)])) for s in shapes for y in range(GRID)
                     for x in range(GRID)])


@dataclass
class VariedImages:
    """``images`` (S * 9 * K, 64, 64) ordered (shape, y, x, sample); the factors of each image."""

    images: np.ndarray
    shape: np.ndarray   # (N,) shape index
    x: np.ndarray       # (N,) column
    y: np.ndarray       # (N,) row
    samples: int
    dx: np.ndarray | None = None   # (N,) pixel offset of each render from its cell (columns)
    dy: np.ndarray | None = None   # (N,) ... (rows)


@functools.lru_cache(maxsize=4)
def _varied_source(shapes: tuple[str, ...], seed: int):
    """The objects training source with glyph variation (its varied tiles take seconds to draw)."""
    from nar_solver.data.sources import ObjectsSource

    return ObjectsSource(variation=True, shapes=shapes, seed=seed)


def varied_images(samples: int, seed: int = 0, shapes: tuple[str, ...] = SHAPES) -> VariedImages:
    """``samples`` renders per (shape, cell), drawn as the objects training source draws them
    (its default jitter and jitter fraction, glyph variation on), but at every cell for every shape."""
    if not 2 <= samples <= MAX_SAMPLES:
        raise NarError(f"samples per (shape, cell) must be in 2..{MAX_SAMPLES}, got {samples}")
    source = _varied_source(tuple(shapes), int(seed))
    rng = np.random.default_rng([seed, 0x70726F])
    grid = np.indices((len(shapes), GRID, GRID, samples)).reshape(4, -1)
    factors = source.placements(rng, grid.shape[1])
    factors.update(shape=grid[0], y=grid[1], x=grid[2])
    images = source.place(rng, factors)
    return VariedImages(images, grid[0], grid[2], grid[1], samples, factors["dx"], factors["dy"])


def canonical_at(varied: VariedImages, shapes: tuple[str, ...] = SHAPES) -> np.ndarray:
    """(N, S, 64, 64) uint8: every shape's canonical (puzzle) glyph drawn exactly where each varied
    render's glyph stands (its cell and pixel offset), the candidates a reconstruction is matched to."""
    from nar_solver.data.render import render_single_objects
    from nar_solver.world.glyphs import glyph_tile

    tiles = np.stack([glyph_tile(s) for s in shapes])                   # (S, 20, 20) canonical
    n, k = len(varied.images), len(shapes)
    out = render_single_objects(np.repeat(tiles[None], n, 0).reshape(n * k, *tiles.shape[1:]),
                                np.repeat(varied.x, k), np.repeat(varied.y, k),
                                np.repeat(varied.dx, k), np.repeat(varied.dy, k))
    return out.reshape(n, k, *out.shape[1:])


@dataclass
class PositionSweep:
    """``images`` (n * n, 64, 64) of one shape, row-major over (y, x); true positions in grid units
    (0 = first cell, 2 = last cell)."""

    images: np.ndarray
    x: np.ndarray
    y: np.ndarray
    shape: str


def position_sweep(shape: str = "square", steps: int = 21) -> PositionSweep:
    """``shape`` with its tile's top-left corner on an even ``steps`` x ``steps`` grid of pixel
    positions from the first cell's origin (2) to the last cell's (42), sub-pixel positions drawn
    bilinearly as the training source draws jittered objects."""
    from nar_solver.data.render import render_single_objects
    from nar_solver.data.sources import GlyphTiles

    if shape not in SHAPES:
        raise NarError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")
    if not 2 <= steps <= MAX_SWEEP:
        raise NarError(f"position sweep steps must be in 2..{MAX_SWEEP}, got {steps}")
    tile = GlyphTiles((shape,)).tiles[0, 0]
    offsets = np.linspace(0.0, float(TILE * (GRID - 1)), steps)
    dy, dx = (a.ravel() for a in np.meshgrid(offsets, offsets, indexing="ij"))
    zeros = np.zeros(dx.shape, dtype=np.int64)
    images = render_single_objects(np.repeat(tile[None], dx.size, 0), zeros, zeros, dx, dy)
    return PositionSweep(images, dx / TILE, dy / TILE, shape)


__all__ = ["CELLS", "MAX_SAMPLES", "MAX_SWEEP", "PositionSweep", "VariedImages", "grid_images",
           "position_sweep", "varied_images"]
