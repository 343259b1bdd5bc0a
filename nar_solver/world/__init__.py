"""The NAR puzzle world in pure Python + numpy + Pillow (never torch): glyphs, boards, programs,
puzzles and their file formats. The submodules hold the full API; the names below are the ones
most callers need."""
from nar_solver.world.board import Board, Obj, random_board, render_board, render_object
from nar_solver.world.formats import iter_image_paths, load_grey_png, load_puzzle, load_puzzles, save_puzzle
from nar_solver.world.glyphs import GEOMETRIC, SHAPES, GlyphVariation, glyph_tile
from nar_solver.world.program import FAMILIES, PRIMITIVES, is_valid_example, run_program, sample_program
from nar_solver.world.puzzle import Example, Puzzle, generate_puzzle, generate_puzzles

__all__ = [
    "Board", "Obj", "random_board", "render_board", "render_object",
    "iter_image_paths", "load_grey_png", "load_puzzle", "load_puzzles", "save_puzzle",
    "GEOMETRIC", "SHAPES", "GlyphVariation", "glyph_tile",
    "FAMILIES", "PRIMITIVES", "is_valid_example", "run_program", "sample_program",
    "Example", "Puzzle", "generate_puzzle", "generate_puzzles",
]
