"""The in-memory puzzle type and puzzle generation.

A puzzle shows a few examples (input image, options, the index of the right option) produced by
one hidden program, and a query input whose right option the solver must pick. Answers are
optional so unlabelled puzzles can be solved; boards and the program are kept when known.

Distractors are outputs of *other programs of the same family on the same input* (docs/world.md's
non-leaking scheme). To keep the right option from standing out, the hidden program and the
distractor programs are exchangeable: a pool of programs of one kind (same length, same number of
`out`, so every option shows the same number of copies) is drawn from the family's prior; inputs
are drawn so that enough pool programs stay valid on all of them and change each of them; the
hidden program is then a random survivor and the distractors come from the other survivors. A
query distractor must come from a program that fails some example, so exactly one option is
consistent with the examples. tests/test_world_puzzle.py checks on 500 puzzles that option-only
heuristics score chance.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from nar_solver.errors import NarError
from nar_solver.world.board import Board, random_board, render_board
from nar_solver.world.glyphs import SHAPES, GlyphVariation, glyph_tile
from nar_solver.world.program import FAMILIES, count_outs, emitted_boards, primitive_count, sample_program

N_OPTIONS = 4
N_EXAMPLES = 6
MAX_OBJECTS = 9

# Budgets: random boards tried per input, programs drawn for a puzzle's pool, attempts per puzzle
# and per program kind (length, number of `out`).
_BOARD_TRIES = 40
_POOL_DRAWS = 40
_ATTEMPTS = 100
_ATTEMPTS_PER_KIND = 4


@dataclass
class Example:
    """One demonstration: an input image, its options (N, 64, 64), and the right option's index."""

    input: np.ndarray
    options: np.ndarray
    answer: int | None
    input_board: Board | None = None
    option_boards: tuple[Board, ...] | None = None


@dataclass
class Puzzle:
    """A whole puzzle: examples, the query input and its options, and what is known about it."""

    id: str
    examples: list[Example]
    query: np.ndarray
    query_options: np.ndarray
    query_answer: int | None
    program: list[str] | None = None
    family: str | None = None
    query_board: Board | None = None
    query_option_boards: tuple[Board, ...] | None = None

    @property
    def n_options(self) -> int:
        return int(self.query_options.shape[0])

    @property
    def n_examples(self) -> int:
        return len(self.examples)

    @property
    def labelled(self) -> bool:
        return self.query_answer is not None


def _validated_objects(objects: tuple[int, int]) -> tuple[int, int]:
    low, high = (int(v) for v in objects)
    if not 1 <= low <= high <= MAX_OBJECTS:
        raise ValueError(f"objects must satisfy 1 <= min <= max <= {MAX_OBJECTS}, got {low}-{high}")
    return low, high


def _well_formed_output(program: Sequence[str], outs: int, board: Board) -> Board | None:
    """The (grammatical) program's output on ``board`` if it makes a valid example that changes
    the input, else None."""
    output = Board(tuple(obj for copy in emitted_boards(program, board) for obj in copy.objects))
    if len(output) != len(board) * outs or not output.has_distinct_cells or output == board:
        return None
    return output


Row = tuple[list[str], tuple[Board, ...]]


def _inputs_and_pool(
    rng: np.random.Generator, family: str, length: int, outs: int, count: int, n_options: int,
    objects: tuple[int, int], shapes: Sequence[str],
) -> tuple[list[Board], list[Row]] | None:
    """Draw a pool of programs (this length and number of `out`, from the family's prior), then
    ``count`` distinct inputs one by one. An input is kept if the pool programs valid on it that
    change it give at least ``n_options`` different outputs; the other programs leave the pool.

    Returns the inputs and the surviving programs, each with its outputs on every input; None if
    an input cannot be found. A program drawn twice stays twice, so a uniformly picked row
    follows the prior.
    """
    draws: dict[tuple[str, ...], int] = {}
    for _ in range(_POOL_DRAWS):
        key = tuple(sample_program(rng, family, length, outs))
        draws[key] = draws.get(key, 0) + 1
    programs = list(draws)  # each distinct program is run once per input
    alive = list(range(len(programs)))
    outputs: dict[int, list[Board]] = {j: [] for j in alive}
    boards: list[Board] = []
    low, high = objects
    for _ in range(count):
        for _ in range(_BOARD_TRIES):
            board = random_board(rng, int(rng.integers(low, high + 1)), shapes)
            if board in boards:
                continue
            results = {j: _well_formed_output(programs[j], outs, board) for j in alive}
            keep = [j for j in alive if results[j] is not None]
            if len({results[j] for j in keep}) >= n_options:
                alive = keep
                for j in keep:
                    outputs[j].append(results[j])  # type: ignore[arg-type]
                boards.append(board)
                break
        else:
            return None
    return boards, [(list(programs[j]), tuple(outputs[j])) for j in alive for _ in range(draws[programs[j]])]


def _distractors(
    rng: np.random.Generator, rows: Sequence[Row], answer: tuple[Board, ...], item: int, count: int,
    n_examples: int,
) -> list[Board] | None:
    """``count`` distinct wrong outputs for input ``item`` from pool rows in random order. For the
    query (item >= n_examples), a row that reproduces every example's answer is skipped: it would
    be a second right answer."""
    taken = {answer[item]}
    found: list[Board] = []
    for j in rng.permutation(len(rows)):
        row = rows[j][1]
        if row[item] in taken or (item >= n_examples and row[:n_examples] == answer[:n_examples]):
            continue
        taken.add(row[item])
        found.append(row[item])
        if len(found) == count:
            return found
    return None


def _options(rng: np.random.Generator, answer: Board, wrong: list[Board]) -> tuple[int, tuple[Board, ...]]:
    index = int(rng.integers(len(wrong) + 1))
    boards = list(wrong)
    boards.insert(index, answer)
    return index, tuple(boards)


def _render_all(boards: Sequence[Board], tiles: dict[str, np.ndarray] | None = None) -> np.ndarray:
    return np.stack([render_board(b, tiles=tiles) for b in boards])


def generate_puzzle(
    rng: np.random.Generator,
    family: str,
    n_examples: int = N_EXAMPLES,
    objects: tuple[int, int] = (1, 3),
    length: int | None = None,
    puzzle_id: str = "0",
    n_options: int = N_OPTIONS,
    shapes: Sequence[str] = SHAPES,
) -> Puzzle:
    """A random puzzle of ``family``: one program, ``n_examples`` examples and a query.

    Every input has ``objects`` = (min, max) objects; the program is valid on every input and
    changes each of them; options are distinct and exactly one is right. ``length`` fixes the
    number of primitives in the program (see :func:`sample_program`). Raises NarError when the
    settings cannot be met (for example too many objects for the program's copies to fit).
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; families: {', '.join(FAMILIES)}")
    objects = _validated_objects(objects)
    if n_examples < 1 or n_options < 2:
        raise ValueError("a puzzle needs at least one example and two options")
    for attempt in range(_ATTEMPTS):
        if attempt % _ATTEMPTS_PER_KIND == 0:
            # The puzzle's kind (program length, number of `out`) follows the family's prior,
            # redrawn if it cannot be shown on inputs of this size.
            first = sample_program(rng, family, length)
            size, outs = primitive_count(first), count_outs(first)
        found = _inputs_and_pool(rng, family, size, outs, n_examples + 1, n_options, objects, shapes)
        if found is None:
            continue
        boards, rows = found
        # The hidden program is any surviving row: the inputs were chosen for the pool as a whole,
        # so nothing about them, or about the options, singles it out.
        program, answer = rows[int(rng.integers(len(rows)))]
        wrong_sets = [_distractors(rng, rows, answer, item, n_options - 1, n_examples)
                      for item in range(len(boards))]
        if any(wrong is None for wrong in wrong_sets):
            continue
        items = []
        for board, right, wrong in zip(boards, answer, wrong_sets):
            index, option_boards = _options(rng, right, wrong)  # type: ignore[arg-type]
            items.append((board, index, option_boards))
        examples = [Example(render_board(b), _render_all(ob), index, b, ob) for b, index, ob in items[:-1]]
        query_board, q_index, q_boards = items[-1]
        return Puzzle(
            id=str(puzzle_id), examples=examples, query=render_board(query_board),
            query_options=_render_all(q_boards), query_answer=q_index, program=list(program),
            family=family, query_board=query_board, query_option_boards=q_boards,
        )
    raise NarError(
        f"could not generate a {family} puzzle with {objects[0]}-{objects[1]} objects"
        + (f" and length {length}" if length is not None else "")
        + f" after {_ATTEMPTS} attempts; try fewer objects or a shorter length"
    )


def puzzle_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of puzzle ``index`` in a set made with ``seed``: puzzle i is the same whatever
    the count, and independent of its neighbours."""
    return np.random.default_rng([int(seed), int(index)])


def generate_puzzles(
    seed: int, count: int, family: str, *, n_examples: int = N_EXAMPLES,
    objects: tuple[int, int] = (1, 3), length: int | None = None, start: int = 0,
    shapes: Sequence[str] = SHAPES,
) -> Iterator[Puzzle]:
    """``count`` reproducible puzzles with ids ``"0000"``, ``"0001"``, ... (from ``start``)."""
    for index in range(start, start + count):
        yield generate_puzzle(puzzle_rng(seed, index), family, n_examples=n_examples, objects=objects,
                              length=length, puzzle_id=f"{index:04d}", shapes=shapes)


def restyle(puzzle: Puzzle, rng: np.random.Generator, variation: GlyphVariation | None = None) -> Puzzle:
    """The same puzzle drawn in another glyph style: every shape redrawn once (stroke width, small
    rotation, scale, shear; ``GlyphVariation``) and that drawing used throughout the puzzle, as a
    data set drawn by other hands would be. Needs the puzzle's boards (generated puzzles keep them)."""
    if puzzle.query_board is None or any(e.input_board is None for e in puzzle.examples):
        raise ValueError("restyle needs the puzzle's boards; only generated puzzles keep them")
    spec = variation if variation is not None else GlyphVariation()
    tiles = {shape: glyph_tile(shape, spec, rng) for shape in SHAPES}
    examples = [dataclasses.replace(e, input=render_board(e.input_board, tiles=tiles),
                                    options=_render_all(e.option_boards, tiles)) for e in puzzle.examples]
    return dataclasses.replace(puzzle, examples=examples, query=render_board(puzzle.query_board, tiles=tiles),
                               query_options=_render_all(puzzle.query_option_boards, tiles))
