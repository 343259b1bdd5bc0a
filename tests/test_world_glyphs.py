"""The glyph bank: 20 named shapes, drawn by code, sized like the published tiles."""
import numpy as np
import pytest

from nar_solver.world.glyphs import CHARACTERS, GEOMETRIC, SHAPES, GlyphVariation, glyph_bank, glyph_tile


def _ink_extent(tile: np.ndarray, threshold: int = 128) -> tuple[int, int]:
    rows = np.flatnonzero((tile < threshold).any(axis=1))
    cols = np.flatnonzero((tile < threshold).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_shape_names_in_canonical_order():
    assert SHAPES == ("circle", "square", "triangle", "delta", "b", "d", "e", "g", "k", "m", "r", "s",
                      "u", "w", "x", "z", "theta", "pi", "tau", "psi")
    assert GEOMETRIC == SHAPES[:4] and CHARACTERS == SHAPES[4:]


@pytest.mark.parametrize("shape", SHAPES)
def test_tile_is_grey_20x20_on_white(shape):
    tile = glyph_tile(shape)
    assert tile.shape == (20, 20) and tile.dtype == np.uint8
    assert tile.min() < 60, "every glyph has dark ink"
    assert np.median(tile) == 255, "most of the tile is white background"


def test_geometric_outlines_nearly_fill_the_tile_with_thick_strokes():
    for shape in GEOMETRIC:
        height, width = _ink_extent(glyph_tile(shape))
        assert height >= 15 and width >= 15, shape
    geometric_mass = min((255 - glyph_tile(s).astype(int)).sum() for s in GEOMETRIC)
    letter_mass = max((255 - glyph_tile(s).astype(int)).sum() for s in CHARACTERS)
    assert geometric_mass > 1.5 * letter_mass


@pytest.mark.parametrize("shape", CHARACTERS)
def test_letters_are_8_to_11_px_tall_thin_strokes(shape):
    tile = glyph_tile(shape)
    height, width = _ink_extent(tile)
    assert 8 <= height <= 11, (shape, height)
    assert 3 <= width <= 14, (shape, width)
    # thin strokes: little ink for the size of the letter (a 2 px pen would double this)
    ink_pixels = (255 - tile.astype(int)).sum() / 255
    assert ink_pixels < 1.8 * (height + width) * 1.5, (shape, ink_pixels)


def test_all_tiles_distinct_and_bank_in_order():
    bank = glyph_bank()
    assert bank.shape == (20, 20, 20)
    flat = bank.reshape(20, -1).astype(int)
    distances = np.abs(flat[:, None] - flat[None]).sum(-1)
    assert (distances + np.eye(20, dtype=int) * 10**9 > 255 * 5).all()
    for i, shape in enumerate(SHAPES):
        assert np.array_equal(bank[i], glyph_tile(shape))


def test_plain_tiles_are_cached_and_read_only():
    assert glyph_tile("b") is glyph_tile("b")
    with pytest.raises(ValueError):
        glyph_tile("b")[0, 0] = 0


def test_unknown_shape_is_refused():
    with pytest.raises(ValueError, match="unknown shape"):
        glyph_tile("hexagon")


def test_variation_is_random_but_seeded_and_stays_in_the_tile():
    variation = GlyphVariation()
    a = glyph_tile("k", variation, np.random.default_rng(3))
    b = glyph_tile("k", variation, np.random.default_rng(3))
    c = glyph_tile("k", variation, np.random.default_rng(4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert not np.array_equal(a, glyph_tile("k"))
    rng = np.random.default_rng(0)
    for _ in range(10):
        for shape in GEOMETRIC:
            tile = glyph_tile(shape, GlyphVariation(scale=(1.1, 1.2), translate=(-1.5, 1.5)), rng)
            border = np.concatenate([tile[0], tile[-1], tile[:, 0], tile[:, -1]])
            assert border.min() >= 128, "jittered outlines are shrunk to stay inside the tile"


def test_variation_rejects_inverted_ranges():
    with pytest.raises(ValueError):
        GlyphVariation(rotation=(5.0, -5.0))
