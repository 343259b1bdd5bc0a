"""Training images and ground-truth worlds: procedural NAR boards and objects, dSprites, a folder of PNGs.

Every source hands out uint8 grey batches (N, 64, 64), 255 = white. The NAR objects and dSprites
are also the factor worlds the metrics measure on (:class:`nar_solver.data.factors.FactorWorld`):
the same class serves training and the metrics. Procedural sources draw each
batch from a numpy Generator seeded by (seed, rank, step, which), so any batch can be recomputed
from its step number alone: resuming needs no data state and every distributed rank gets its own
stream. Rendering composites cached 20x20 glyph tiles with vectorised numpy.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from nar_solver.data import dsprites
from nar_solver.data.factors import check_factor_indices, uniform_factors
from nar_solver.data.render import composite_min, paste_tiles, render_single_objects
from nar_solver.errors import NarError
from nar_solver.world.board import GRID, IMAGE_SIZE, WHITE, render_object
from nar_solver.world.glyphs import SHAPES, GlyphVariation, glyph_bank, glyph_tile

CELLS = GRID * GRID
#: Varied tiles drawn per shape when glyph variation is on (drawn once, then reused).
VARIANTS_PER_SHAPE = 32


@functools.lru_cache(maxsize=8)
def _varied_tiles(shapes: tuple[str, ...], seed: int) -> np.ndarray:
    """(shapes, VARIANTS_PER_SHAPE, 20, 20) jittered tiles, read-only: drawing them costs about a
    millisecond a tile, and every source and metrics world with the same shapes and seed shares them."""
    rng = np.random.default_rng([seed, 0x6C79])
    spec = GlyphVariation()
    varied = np.stack([np.stack([glyph_tile(s, spec, rng) for _ in range(VARIANTS_PER_SHAPE)]) for s in shapes])
    varied.setflags(write=False)
    return varied


class GlyphTiles:
    """Cached tiles: (shapes, variants, 20, 20). Variant 0 is the canonical tile the puzzles use.

    With ``variation`` on, variants 1.. are jittered redraws (stroke width, small rotation, scale,
    shear, sub-pixel shift); half of the draws still use the canonical tile, so the exact puzzle
    glyphs stay well represented.
    """

    def __init__(self, shapes: tuple[str, ...] = SHAPES, variation: bool = False, seed: int = 0):
        unknown = [s for s in shapes if s not in SHAPES]
        if unknown:
            raise NarError(f"unknown shape(s) {', '.join(unknown)}; known: {', '.join(SHAPES)}")
        self.shapes = tuple(shapes)
        bank = glyph_bank()
        canonical = np.stack([bank[SHAPES.index(s)] for s in self.shapes])[:, None]
        if not variation:
            self.tiles = np.ascontiguousarray(canonical)
        else:
            self.tiles = np.concatenate([canonical, _varied_tiles(self.shapes, seed)], axis=1)

    def draw_varied(self, rng: np.random.Generator, shape_index: np.ndarray) -> np.ndarray:
        """Tiles for the given shape indices, always a jittered variant (the canonical tile only when
        there is no variation); one draw per tile whatever the shapes, so equal generators pick equal
        variants for equally many tiles."""
        variant = rng.integers(1, max(self.tiles.shape[1], 2), np.shape(shape_index))
        return self.tiles[shape_index, np.minimum(variant, self.tiles.shape[1] - 1)]

    def draw(self, rng: np.random.Generator, shape_index: np.ndarray) -> np.ndarray:
        """Tiles for the given shape indices, picking a variant per draw."""
        n_variants = self.tiles.shape[1]
        if n_variants == 1:
            return self.tiles[shape_index, 0]
        varied = rng.random(shape_index.shape) < 0.5
        variant = np.where(varied, rng.integers(1, n_variants, shape_index.shape), 0)
        return self.tiles[shape_index, variant]


class ObjectsSource:
    """Single-object boards: one glyph in one cell, the factors being shape, x and y.

    Training draws (:meth:`draw`): a fraction ``1 - jitter_fraction`` of the images sits exactly on
    its cell (as in puzzles); the rest is moved by a continuous offset uniform in [-jitter, jitter]
    px on each axis, so x and y are smooth latent axes rather than three isolated points.
    As a factor world (:meth:`sample_factors`, :meth:`render`) the factors are shape (one per
    shape), x (3 columns) and y (3 rows). Rendered without a generator each tuple is drawn plainly
    on its cell (one image per tuple, as in puzzles); with one, every image gets its own nuisance
    (a jittered glyph variant when ``variation`` is on, a continuous offset within ``jitter`` px):
    the metrics' objects world (:func:`nar_solver.data.make_world`, docs/metrics.md).
    """

    name = "objects"
    factor_names = ("shape", "x", "y")
    categorical = (True, False, False)

    def __init__(self, jitter: float = 2.0, jitter_fraction: float = 0.5, variation: bool = False,
                 shapes: tuple[str, ...] = SHAPES, seed: int = 0):
        if jitter < 0 or not 0.0 <= jitter_fraction <= 1.0:
            raise NarError(f"jitter must be >= 0 and jitter_fraction in [0, 1], got {jitter}, {jitter_fraction}")
        self.jitter, self.jitter_fraction = float(jitter), float(jitter_fraction)
        self.glyphs = GlyphTiles(shapes, variation, seed)
        self._table: np.ndarray | None = None

    @property
    def factor_sizes(self) -> tuple[int, ...]:
        return (len(self.glyphs.shapes), GRID, GRID)

    def sample_factors(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return uniform_factors(self.factor_sizes, rng, n)

    def render(self, factors: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Factor indices (N, 3) -> (N, 64, 64): each object plain on its cell, or with ``rng`` its
        rendering nuisance (:meth:`render_varied`)."""
        factors = check_factor_indices(factors, self.factor_sizes, self.name)
        if rng is not None:
            return self.render_varied(factors, rng)
        if self._table is None:  # 20 x 3 x 3 images, rendered once
            n_shape, n_x, n_y = self.factor_sizes
            self._table = np.stack([render_object(shape, x, y) for shape in self.glyphs.shapes
                                    for x in range(n_x) for y in range(n_y)]).reshape(n_shape, n_x, n_y,
                                                                                      IMAGE_SIZE, IMAGE_SIZE)
        return self._table[factors[:, 0], factors[:, 1], factors[:, 2]]

    def render_varied(self, factors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Each object as a varied glyph (:meth:`GlyphTiles.draw_varied`) moved by an offset uniform in
        [-jitter, jitter] px per axis. The draws are one variant and two offsets per image, whatever
        the factors (the :class:`~nar_solver.data.factors.FactorWorld` nuisance contract); with a
        continuous offset no two images coincide, so a metric's train and test images differ."""
        n = factors.shape[0]
        tiles = self.glyphs.draw_varied(rng, factors[:, 0])
        dx = rng.uniform(-self.jitter, self.jitter, n)
        dy = rng.uniform(-self.jitter, self.jitter, n)
        return render_single_objects(tiles, factors[:, 1], factors[:, 2], dx, dy)

    def placements(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """Random training placements: shape index, cell x, cell y and the pixel offsets dx, dy."""
        shape = rng.integers(0, len(self.glyphs.shapes), n)
        cell = rng.integers(0, CELLS, n)
        moved = rng.random(n) < self.jitter_fraction
        dx = np.where(moved, rng.uniform(-self.jitter, self.jitter, n), 0.0)
        dy = np.where(moved, rng.uniform(-self.jitter, self.jitter, n), 0.0)
        return {"shape": shape, "x": cell % GRID, "y": cell // GRID, "dx": dx, "dy": dy}

    def place(self, rng: np.random.Generator, placements: dict[str, np.ndarray]) -> np.ndarray:
        """The images of :meth:`placements` (a glyph variant drawn per object when varied)."""
        tiles = self.glyphs.draw(rng, placements["shape"])
        return render_single_objects(tiles, placements["x"], placements["y"], placements["dx"], placements["dy"])

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.place(rng, self.placements(rng, n))


class BoardsSource:
    """Random NAR boards: ``min_objects``..``max_objects`` objects (uniform), distinct cells, uniform shapes.

    Without jitter the tiles are pasted opaque exactly as puzzles are rendered; with jitter each
    object moves like in :class:`ObjectsSource` and overlapping tiles keep the darker ink.
    """

    name = "boards"

    def __init__(self, min_objects: int = 1, max_objects: int = 3, jitter: float = 0.0,
                 jitter_fraction: float = 0.5, variation: bool = False, shapes: tuple[str, ...] = SHAPES,
                 seed: int = 0):
        if not 1 <= min_objects <= max_objects <= CELLS:
            raise NarError(f"objects per board must satisfy 1 <= min <= max <= {CELLS}, "
                           f"got {min_objects}..{max_objects}")
        self.min_objects, self.max_objects = min_objects, max_objects
        self.objects = ObjectsSource(jitter, jitter_fraction, variation, shapes, seed)

    def layout(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """Random boards: ``count`` (n,), and per slot ``shape``, ``x``, ``y`` (n, max_objects); slots
        at or beyond an image's count are unused."""
        count = rng.integers(self.min_objects, self.max_objects + 1, n)
        cells = np.argsort(rng.random((n, CELLS)), axis=1)[:, : self.max_objects]  # distinct cells
        shape = rng.integers(0, len(self.objects.glyphs.shapes), (n, self.max_objects))
        return {"count": count, "shape": shape, "x": cells % GRID, "y": cells // GRID}

    def place(self, rng: np.random.Generator, layout: dict[str, np.ndarray]) -> np.ndarray:
        """The images of :meth:`layout`."""
        count, shape, cx, cy = layout["count"], layout["shape"], layout["x"], layout["y"]
        n = len(count)
        if self.objects.jitter == 0.0:
            images = np.full((n, IMAGE_SIZE, IMAGE_SIZE), WHITE, dtype=np.uint8)
            for slot in range(self.max_objects):
                batch = np.nonzero(count > slot)[0]
                tiles = self.objects.glyphs.draw(rng, shape[batch, slot])
                paste_tiles(images, tiles, cx[batch, slot], cy[batch, slot], batch)
            return images
        layers = np.full((self.max_objects, n, IMAGE_SIZE, IMAGE_SIZE), WHITE, dtype=np.uint8)
        for slot in range(self.max_objects):
            batch = np.nonzero(count > slot)[0]
            placements = self.objects.placements(rng, len(batch))
            placements.update(shape=shape[batch, slot], x=cx[batch, slot], y=cy[batch, slot])
            layers[slot, batch] = self.objects.place(rng, placements)
        return composite_min(layers)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.place(rng, self.layout(rng, n))


class DSpritesSource:
    """Procedural dSprites (:mod:`nar_solver.data.dsprites`), uniform over all factors: the training
    source and the factor world."""

    name = "dsprites"
    factor_names = dsprites.FACTOR_NAMES
    factor_sizes = dsprites.FACTOR_SIZES
    categorical = (True,) + (False,) * (len(dsprites.FACTOR_SIZES) - 1)

    def __init__(self, geometry: dsprites.DSpritesGeometry = dsprites.DEFAULT_GEOMETRY):
        self.geometry = geometry

    def sample_factors(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return dsprites.sample_factors(rng, n)

    def render(self, factors: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Factor indices -> images; dSprites has no rendering nuisance, so ``rng`` is unused."""
        return dsprites.render(factors, self.geometry)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.render(self.sample_factors(rng, n))


class FolderSource:
    """Every PNG of a puzzle folder tree or a few-shot-nar layout, held in memory as uint8 (labels unused)."""

    def __init__(self, path: str | Path):
        from nar_solver.world.formats import iter_image_paths, load_grey_png

        path = Path(path)
        if not path.exists():
            raise NarError("--data is not boards, objects or dsprites, and no such folder exists", path)
        if not path.is_dir():
            raise NarError("--data expects boards, objects, dsprites or a folder of puzzle images", path)
        paths = iter_image_paths(path)
        if not paths:
            raise NarError("no PNG images found in this folder", path)
        self.name = f"folder:{path}"
        self.path = path
        self.images = np.stack([load_grey_png(p) for p in paths])

    def __len__(self) -> int:
        return len(self.images)
