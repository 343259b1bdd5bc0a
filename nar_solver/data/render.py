"""Vectorised rendering of NAR boards from cached glyph tiles (numpy, no per-image Python loop).

Pixel-identical to ``nar_solver.world.board.render_board`` (opaque tiles at the exact cells) and to
``render_object`` (bilinear sub-pixel placement of one tile's ink), but for a whole batch at once:
each batch element writes its own disjoint pixels, so plain fancy indexing does the work.
"""
from __future__ import annotations

import numpy as np

from nar_solver.world.board import IMAGE_SIZE, MARGIN, TILE, WHITE

_ROWS = np.arange(TILE)


def _tile_window(batch: np.ndarray, row: np.ndarray, col: np.ndarray):
    """Index arrays addressing a TILE x TILE window at (row, col) of each batch element."""
    b = batch[:, None, None]
    r = row[:, None, None] + _ROWS[None, :, None]
    c = col[:, None, None] + _ROWS[None, None, :]
    return b, r, c


def paste_tiles(canvas: np.ndarray, tiles: np.ndarray, cell_x: np.ndarray, cell_y: np.ndarray,
                batch: np.ndarray | None = None) -> None:
    """Paste grey tiles (K,20,20) opaque, white background included, into their cells of ``canvas``.

    ``batch`` says which canvas image each tile goes to (default: tile k into image k); a
    batch element may appear several times as long as its cells differ.
    """
    if batch is None:
        batch = np.arange(len(tiles))
    row = MARGIN + TILE * np.asarray(cell_y)
    col = MARGIN + TILE * np.asarray(cell_x)
    canvas[_tile_window(batch, row, col)] = tiles


def render_single_objects(tiles: np.ndarray, cell_x: np.ndarray, cell_y: np.ndarray,
                          dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """One object per image, moved (dx, dy) pixels from its cell, with bilinear sub-pixel placement.

    Offsets are clipped so the whole tile stays inside the image (as ``render_object`` does).
    Returns uint8 grey (N, 64, 64).
    """
    n = len(tiles)
    limit = float(IMAGE_SIZE - TILE)
    row = np.clip(MARGIN + TILE * np.asarray(cell_y, dtype=np.float64) + dy, 0.0, limit)
    col = np.clip(MARGIN + TILE * np.asarray(cell_x, dtype=np.float64) + dx, 0.0, limit)
    r0, c0 = np.floor(row).astype(np.int64), np.floor(col).astype(np.int64)
    fr, fc = row - r0, col - c0
    ink = (WHITE - tiles.astype(np.float32))
    # The four bilinear copies are summed in a (TILE+1)^2 window per image (same order of float32
    # additions as on a full canvas, so the same pixels), and only the window is written into the image.
    window = np.zeros((n, TILE + 1, TILE + 1), dtype=np.float32)
    for wr, dr in ((1 - fr, 0), (fr, 1)):
        for wc, dc in ((1 - fc, 0), (fc, 1)):
            # float64 product rounded once to float32, like a Python-float weight times a float32 tile
            weight = (wr * wc).astype(np.float32)[:, None, None]
            window[:, dr : dr + TILE, dc : dc + TILE] += weight * ink
    grey = np.clip(WHITE - np.rint(window), 0, WHITE).astype(np.uint8)
    canvas = np.full((n, IMAGE_SIZE + 1, IMAGE_SIZE + 1), WHITE, dtype=np.uint8)
    b = np.arange(n)[:, None, None]
    r = r0[:, None, None] + np.arange(TILE + 1)[None, :, None]
    c = c0[:, None, None] + np.arange(TILE + 1)[None, None, :]
    canvas[b, r, c] = grey
    return np.ascontiguousarray(canvas[:, :IMAGE_SIZE, :IMAGE_SIZE])


def composite_min(images: np.ndarray) -> np.ndarray:
    """Overlay several grey renderings of the same batch (K, N, 64, 64): the darkest pixel wins."""
    return images.min(axis=0)
