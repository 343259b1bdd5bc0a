"""Boards (sets of shapes on a 3x3 grid) and their 64x64 grey images.

Geometry (docs/world.md): the tile of cell (x, y) has its top-left pixel at row 2+20*y, column 2+20*x;
x is the column, y the row. Pixels 0-1 and 62-63 on each border stay white.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping, Sequence

import numpy as np

from nar_solver.world.glyphs import SHAPES, GlyphVariation, glyph_tile

GRID = 3
TILE = 20
MARGIN = 2
IMAGE_SIZE = 64
WHITE = 255

_SHAPE_SET = frozenset(SHAPES)


def tile_origin(x: int, y: int) -> tuple[int, int]:
    """(row, col) of the top-left pixel of cell (x, y)'s tile."""
    return MARGIN + TILE * y, MARGIN + TILE * x


@dataclass(frozen=True, order=True)
class Obj:
    """One object: a shape name in a cell (x = column, y = row, both 0..2)."""

    shape: str
    x: int
    y: int

    def __post_init__(self) -> None:
        if self.shape not in _SHAPE_SET:
            raise ValueError(f"unknown shape {self.shape!r}")
        if not (0 <= self.x < GRID and 0 <= self.y < GRID):
            raise ValueError(f"cell ({self.x}, {self.y}) is off the {GRID}x{GRID} grid")

    @property
    def cell(self) -> tuple[int, int]:
        return self.x, self.y

    def to_json(self) -> list:
        return [self.shape, self.x, self.y]


def _cell_key(obj: Obj) -> tuple[int, int, str]:
    return obj.y, obj.x, obj.shape


@dataclass(frozen=True)
class Board:
    """A multiset of objects, kept sorted by (y, x) (reading order).

    A board may hold two objects in one cell: that is how a program's output shows a collision (a
    clamped shift, or two `out` copies landing together). Such a board is not well formed
    (:attr:`has_distinct_cells` is False) and cannot be rendered; puzzles only contain well-formed
    boards. Use :meth:`Board.of` to build one from objects or ``(shape, x, y)`` triples.
    """

    objects: tuple[Obj, ...] = ()

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.objects, key=_cell_key))
        if ordered != self.objects:
            object.__setattr__(self, "objects", ordered)

    @classmethod
    def of(cls, items: Iterable[Obj | Sequence]) -> "Board":
        objs = []
        for item in items:
            if isinstance(item, Obj):
                objs.append(item)
            else:
                shape, x, y = item
                objs.append(Obj(str(shape), int(x), int(y)))
        return cls(tuple(objs))

    @property
    def cells(self) -> frozenset[tuple[int, int]]:
        return frozenset((o.x, o.y) for o in self.objects)

    @property
    def has_distinct_cells(self) -> bool:
        return len(self.cells) == len(self.objects)

    def __len__(self) -> int:
        return len(self.objects)

    def __iter__(self) -> Iterator[Obj]:
        return iter(self.objects)

    def to_json(self) -> list:
        """``[[shape, x, y], ...]`` in reading order (our file formats' board encoding)."""
        return [o.to_json() for o in self.objects]

    @classmethod
    def from_json(cls, data: Iterable[Sequence]) -> "Board":
        return cls.of(data)

    def __str__(self) -> str:
        return "{" + ", ".join(f"{o.shape}@({o.x},{o.y})" for o in self.objects) + "}"


def render_board(
    board: Board,
    variation: GlyphVariation | None = None,
    rng: np.random.Generator | None = None,
    tiles: Mapping[str, np.ndarray] | None = None,
) -> np.ndarray:
    """The board's 64x64 uint8 grey image: white background, each glyph tile pasted opaque.

    ``tiles`` (shape -> 20x20 tile) draws the board in a given glyph style; otherwise each tile is
    the canonical one, or a fresh varied one when ``variation`` is given.
    Raises ValueError for a board with two objects in one cell (it has no faithful image).
    """
    if not board.has_distinct_cells:
        raise ValueError(f"cannot render a board with two objects in one cell: {board}")
    image = np.full((IMAGE_SIZE, IMAGE_SIZE), WHITE, dtype=np.uint8)
    for obj in board.objects:
        r, c = tile_origin(obj.x, obj.y)
        image[r:r + TILE, c:c + TILE] = tiles[obj.shape] if tiles is not None else glyph_tile(obj.shape, variation, rng)
    return image


def render_object(
    shape: str,
    x: int,
    y: int,
    dx: float = 0.0,
    dy: float = 0.0,
    variation: GlyphVariation | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """A one-object board whose tile is moved (dx, dy) pixels (right, down) from its cell position.

    Offsets may be fractional: the tile's ink is placed by bilinear interpolation, so the object
    moves continuously (used to train the object-level VAE with position jitter). The offset is
    clipped so the whole tile stays inside the 64x64 image.
    """
    row0, col0 = tile_origin(x, y)
    limit = IMAGE_SIZE - TILE
    row = min(max(row0 + float(dy), 0.0), float(limit))
    col = min(max(col0 + float(dx), 0.0), float(limit))
    ink = (WHITE - glyph_tile(shape, variation, rng).astype(np.float32))
    r, c = int(math.floor(row)), int(math.floor(col))
    fr, fc = row - r, col - c
    canvas = np.zeros((IMAGE_SIZE + 1, IMAGE_SIZE + 1), dtype=np.float32)
    for wr, dr in ((1 - fr, 0), (fr, 1)):
        for wc, dc in ((1 - fc, 0), (fc, 1)):
            if wr * wc:
                canvas[r + dr:r + dr + TILE, c + dc:c + dc + TILE] += wr * wc * ink
    grey = WHITE - np.rint(canvas[:IMAGE_SIZE, :IMAGE_SIZE])
    return np.clip(grey, 0, WHITE).astype(np.uint8)


def random_board(rng: np.random.Generator, n_objects: int, shapes: Sequence[str] = SHAPES) -> Board:
    """``n_objects`` objects with shapes drawn uniformly from ``shapes``, in distinct random cells."""
    if not 0 <= n_objects <= GRID * GRID:
        raise ValueError(f"n_objects must be 0..{GRID * GRID}, got {n_objects}")
    cells = rng.choice(GRID * GRID, size=n_objects, replace=False)
    kinds = rng.integers(0, len(shapes), size=n_objects)
    return Board(tuple(Obj(shapes[int(k)], int(c) % GRID, int(c) // GRID) for c, k in zip(cells, kinds)))
