"""Boards and the renderer's geometry (docs/world.md: 3x3 tiles of 20 px at 2 + 20 * cell)."""
import numpy as np
import pytest

from nar_solver.world.board import (
    IMAGE_SIZE, Board, Obj, random_board, render_board, render_object, tile_origin,
)
from nar_solver.world.glyphs import SHAPES, glyph_tile


def test_tile_origin_is_row_col_of_cell():
    assert tile_origin(0, 0) == (2, 2)
    assert tile_origin(2, 0) == (2, 42)   # x is the column
    assert tile_origin(1, 2) == (42, 22)  # y is the row


def test_board_is_sorted_in_reading_order_and_hashable():
    board = Board.of([("b", 2, 1), Obj("circle", 0, 2), ("k", 1, 0)])
    assert [o.cell for o in board] == [(1, 0), (2, 1), (0, 2)]
    assert board == Board.of([("k", 1, 0), ("circle", 0, 2), ("b", 2, 1)])
    assert len({board, Board.of(reversed(board.objects))}) == 1
    assert board.cells == frozenset({(1, 0), (2, 1), (0, 2)}) and len(board) == 3
    assert Board.from_json(board.to_json()) == board


def test_objects_are_validated():
    with pytest.raises(ValueError):
        Obj("hexagon", 0, 0)
    with pytest.raises(ValueError):
        Obj("b", 3, 0)
    with pytest.raises(ValueError):
        Obj("b", 0, -1)


@pytest.mark.parametrize("x", range(3))
@pytest.mark.parametrize("y", range(3))
def test_glyph_ink_lies_inside_its_tile(x, y):
    for shape in ("circle", "square", "psi", "m"):
        image = render_board(Board.of([(shape, x, y)]))
        assert image.shape == (IMAGE_SIZE, IMAGE_SIZE) and image.dtype == np.uint8
        r, c = tile_origin(x, y)
        assert np.array_equal(image[r:r + 20, c:c + 20], glyph_tile(shape))
        outside = image.copy()
        outside[r:r + 20, c:c + 20] = 255
        assert (outside == 255).all(), "no ink outside the object's tile"


def test_borders_stay_white_on_a_full_board():
    board = Board.of([(SHAPES[(3 * y + x) % 4], x, y) for x in range(3) for y in range(3)])
    image = render_board(board)
    for band in (image[:2], image[-2:], image[:, :2], image[:, -2:]):
        assert (band == 255).all()
    assert image.min() < 50


def test_colliding_board_cannot_be_rendered():
    board = Board.of([("b", 1, 1), ("k", 1, 1)])
    assert not board.has_distinct_cells
    with pytest.raises(ValueError, match="two objects in one cell"):
        render_board(board)


def test_random_board_has_distinct_cells_and_requested_size():
    rng = np.random.default_rng(0)
    for n in range(10):
        board = random_board(rng, n)
        assert len(board) == n and board.has_distinct_cells
    board = random_board(rng, 3, shapes=("b",))
    assert {o.shape for o in board} == {"b"}
    with pytest.raises(ValueError):
        random_board(rng, 10)


def test_render_object_without_offset_matches_board():
    assert np.array_equal(render_object("theta", 1, 2), render_board(Board.of([("theta", 1, 2)])))


def test_render_object_integer_offset_moves_the_tile():
    moved = render_object("square", 1, 1, dx=3, dy=-2)  # tile origin (22, 22) -> (20, 25)
    assert np.array_equal(moved[20:40, 25:45], glyph_tile("square"))
    moved[20:40, 25:45] = 255
    assert (moved == 255).all()


def test_render_object_fractional_offset_is_continuous_and_keeps_ink():
    ink = lambda img: (255 - img.astype(float)).sum()  # noqa: E731
    a, half, b = (render_object("circle", 0, 0, dx=d) for d in (4.0, 4.5, 5.0))
    assert abs(ink(half) - ink(a)) / ink(a) < 0.02
    assert not np.array_equal(half, a) and not np.array_equal(half, b)
    assert np.abs(half.astype(int) - (a.astype(int) + b.astype(int)) / 2).max() <= 1


def test_render_object_offset_is_clipped_inside_the_image():
    image = render_object("square", 2, 2, dx=50, dy=50)
    assert np.array_equal(image[44:64, 44:64], glyph_tile("square"))
    image = render_object("square", 0, 0, dx=-50, dy=-50)
    assert np.array_equal(image[0:20, 0:20], glyph_tile("square"))
