"""Perception: split a board image into its objects, each shown alone on a white board.

A NAR program acts on every object of a board the same way, so the solver works on objects, not
boards. Each object becomes a *single-object board*: a white 64x64 image holding only that object,
at its own place. That is exactly the kind of image the object-level VAE was trained on.

Two methods:

- ``grid``: NAR geometry. A 3x3 board of 20x20 tiles; a tile is an object when it holds more ink
  than ``tile_ink``. Exact on every NAR board, even where two glyphs touch across a tile edge.
- ``components``: connected components of the ink (scikit-image), for images not on the grid.
  Strokes closer than ``join_px`` pixels are joined first, so a glyph drawn with a gap (the dot of
  an ``i``) stays one object.

``auto`` picks ``grid`` when the image is 64x64, its 2-pixel margin holds no ink and no tile has
ink cut by its edge (every NAR board), else ``components``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from nar_solver.errors import PuzzleError
from nar_solver.model.images import ink_of
from nar_solver.world.board import GRID, IMAGE_SIZE, MARGIN, TILE, tile_origin

Method = Literal["auto", "grid", "components"]
METHODS: tuple[str, ...] = ("auto", "grid", "components")

#: A tile is an object when its ink (1 - grey/255, summed) exceeds this. The thinnest published
#: glyph (a letter with 1-px strokes) holds about 15-30; bicubic ringing on white holds none.
TILE_INK = 3.0
#: Pixels with ink above this belong to a component.
PIXEL_INK = 0.15
#: Components closer than this many pixels are joined into one object.
JOIN_PX = 2
#: The margin may hold this much stray ink and still count as NAR geometry.
MARGIN_INK = 1.0
#: On NAR geometry a glyph stays inside its tile: the outermost rows and columns of a tile hold at
#: most about 2.3 ink (the square's outline). An object cut by a tile edge puts more there.
TILE_EDGE_INK = 4.0


@dataclass(frozen=True)
class PerceivedObject:
    """One object found on a board.

    ``image`` is the single-object board (uint8 64x64, 255 = white) with the object at its own
    place; ``cell`` the grid cell (x, y) when found on the NAR grid, else None; ``centre`` the ink's
    centre of mass (row, col); ``ink`` its total ink.
    """

    image: np.ndarray
    cell: tuple[int, int] | None
    centre: tuple[float, float]
    ink: float


def _check_board(board: np.ndarray) -> np.ndarray:
    board = np.asarray(board)
    if board.ndim != 2 or board.dtype != np.uint8:
        raise PuzzleError(f"a board must be a 2-D uint8 grey image, got {board.dtype} {board.shape}")
    return board


def is_nar_geometry(board: np.ndarray) -> bool:
    """True when ``board`` looks like a NAR board: 64x64, an empty 2-pixel margin, and no tile
    with much ink on its outermost rows or columns (nothing cut by a tile edge)."""
    board = _check_board(board)
    if board.shape != (IMAGE_SIZE, IMAGE_SIZE):
        return False
    ink = ink_of(board)
    inner = ink[MARGIN:IMAGE_SIZE - MARGIN, MARGIN:IMAGE_SIZE - MARGIN].sum()
    if float(ink.sum() - inner) > MARGIN_INK:
        return False
    for y in range(GRID):
        for x in range(GRID):
            r, c = tile_origin(x, y)
            tile = ink[r:r + TILE, c:c + TILE]
            edge = tile[0].sum() + tile[-1].sum() + tile[1:-1, 0].sum() + tile[1:-1, -1].sum()
            if float(edge) > TILE_EDGE_INK:
                return False
    return True


def _centre(ink: np.ndarray) -> tuple[float, float]:
    total = float(ink.sum())
    if total <= 0:
        return (float(ink.shape[0]) / 2, float(ink.shape[1]) / 2)
    rows, cols = np.indices(ink.shape)
    return float((rows * ink).sum() / total), float((cols * ink).sum() / total)


def whole_board(board: np.ndarray) -> PerceivedObject:
    """The whole image as one object (what the board manifold encodes, and single-object images)."""
    board = np.asarray(board)
    ink = ink_of(board)
    return PerceivedObject(board, None, _centre(ink), float(ink.sum()))


def split_grid(board: np.ndarray, tile_ink: float = TILE_INK) -> list[PerceivedObject]:
    """Objects of a NAR board: every tile with ink, in reading order (row by row)."""
    board = _check_board(board)
    if board.shape != (IMAGE_SIZE, IMAGE_SIZE):
        raise PuzzleError(f"grid perception needs a 64x64 board, got {board.shape}")
    ink = ink_of(board)
    found = []
    for y in range(GRID):
        for x in range(GRID):
            r, c = tile_origin(x, y)
            tile_ink_sum = float(ink[r:r + TILE, c:c + TILE].sum())
            if tile_ink_sum <= tile_ink:
                continue
            single = np.full_like(board, 255)
            single[r:r + TILE, c:c + TILE] = board[r:r + TILE, c:c + TILE]
            found.append(PerceivedObject(single, (x, y), _centre(ink_of(single)), tile_ink_sum))
    return found


def split_components(
    board: np.ndarray, pixel_ink: float = PIXEL_INK, join_px: int = JOIN_PX, min_ink: float = TILE_INK
) -> list[PerceivedObject]:
    """Objects of any grey image: connected ink components (strokes within ``join_px`` joined),
    each pasted alone on white; components with less than ``min_ink`` ink are dropped as specks.
    Ordered by centre of mass, top to bottom then left to right."""
    from skimage.measure import label
    from skimage.morphology import dilation, footprint_rectangle

    board = _check_board(board)
    ink = ink_of(board)
    mask = ink > pixel_ink
    joined = dilation(mask, footprint_rectangle((2 * join_px + 1, 2 * join_px + 1))) if join_px else mask
    labels = label(joined, connectivity=2)
    found = []
    for index in range(1, int(labels.max()) + 1):
        region = labels == index
        region_ink = float(ink[region].sum())
        if region_ink <= min_ink:
            continue
        single = np.full_like(board, 255)
        single[region] = board[region]
        found.append(PerceivedObject(single, None, _centre(ink_of(single)), region_ink))
    found.sort(key=lambda o: (round(o.centre[0] / 4), o.centre[1]))
    return found


def split_objects(board: np.ndarray, method: Method = "auto") -> list[PerceivedObject]:
    """The objects of ``board`` by ``method`` (``auto``: grid on NAR geometry, else components)."""
    if method not in METHODS:
        raise PuzzleError(f"unknown perception method {method!r}; choose one of {', '.join(METHODS)}")
    if method == "grid" or (method == "auto" and is_nar_geometry(board)):
        return split_grid(board)
    return split_components(board)
