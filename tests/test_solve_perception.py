"""Perception: objects found on rendered boards (grid) and on images off the grid (components)."""
import numpy as np
import pytest

from nar_solver.errors import PuzzleError
from nar_solver.data.render import composite_min
from nar_solver.solve.perception import is_nar_geometry, split_components, split_grid, split_objects
from nar_solver.world.board import Board, random_board, render_board, tile_origin
from nar_solver.world.glyphs import SHAPES


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_is_one_object_in_its_cell(shape):
    for x, y in [(0, 0), (2, 1), (1, 2)]:
        image = render_board(Board.of([(shape, x, y)]))
        objects = split_objects(image)
        assert [o.cell for o in objects] == [(x, y)]
        assert np.array_equal(objects[0].image, image), "a one-object board is its own single-object board"
        assert len(split_components(image)) == 1, "no glyph falls apart into components"


def _composite(images: list) -> np.ndarray:
    """The objects drawn back onto one board (the darkest pixel wins); a white board for none."""
    return composite_min(np.stack(images)) if images else np.full((64, 64), 255, np.uint8)


def test_random_boards_split_into_their_objects_and_composite_back():
    rng = np.random.default_rng(0)
    for _ in range(40):
        board = random_board(rng, int(rng.integers(0, 10)))
        image = render_board(board)
        objects = split_grid(image)
        assert sorted(o.cell for o in objects) == sorted(board.cells)
        for obj in objects:
            alone = render_board(Board.of([o for o in board if o.cell == obj.cell]))
            assert np.array_equal(obj.image, alone)
        assert np.array_equal(_composite([o.image for o in objects]), image)


def test_full_board_of_touching_geometric_shapes_keeps_nine_objects():
    board = Board.of([(("square", "circle")[(x + y) % 2], x, y) for x in range(3) for y in range(3)])
    image = render_board(board)
    assert is_nar_geometry(image)
    assert len(split_objects(image)) == 9


def test_off_grid_image_uses_connected_components():
    # Glyphs pasted off the grid, cut by tile edges: not NAR geometry.
    image = np.full((64, 64), 255, np.uint8)
    for shape, (row, col) in (("square", (12, 30)), ("k", (36, 13))):
        tile = render_board(Board.of([(shape, 0, 0)]))
        r, c = tile_origin(0, 0)
        image[row:row + 20, col:col + 20] = np.minimum(image[row:row + 20, col:col + 20], tile[r:r + 20, c:c + 20])
    assert not is_nar_geometry(image)
    objects = split_objects(image)
    assert [o.cell for o in objects] == [None, None]
    assert objects[0].centre[0] < objects[1].centre[0], "ordered top to bottom"
    assert np.array_equal(_composite([o.image for o in objects]), image)


def test_empty_board_has_no_objects_and_bad_input_is_refused():
    assert split_objects(np.full((64, 64), 255, np.uint8)) == []
    with pytest.raises(PuzzleError):
        split_objects(np.zeros((64, 64), np.float32))
    with pytest.raises(PuzzleError):
        split_objects(np.full((64, 64), 255, np.uint8), method="magic")
