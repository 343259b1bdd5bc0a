"""Puzzle generation: well-formed puzzles, exactly one right option, and distractors that don't leak."""
import numpy as np
import pytest

from nar_solver.errors import NarError
from nar_solver.world.board import render_board
from nar_solver.world.program import FAMILIES, is_valid_example, primitive_count, run_program
from nar_solver.world.puzzle import generate_puzzle, generate_puzzles, puzzle_rng


def _items(puzzle):
    for ex in puzzle.examples:
        yield ex.input, ex.options, ex.answer, ex.input_board, ex.option_boards
    yield puzzle.query, puzzle.query_options, puzzle.query_answer, puzzle.query_board, puzzle.query_option_boards


@pytest.mark.parametrize("family", FAMILIES)
def test_generated_puzzle_is_well_formed(family):
    for seed in range(5):
        puzzle = generate_puzzle(np.random.default_rng(seed), family, puzzle_id="p")
        assert puzzle.id == "p" and puzzle.family == family and len(puzzle.examples) == 6
        assert puzzle.n_options == 4 and puzzle.query.shape == (64, 64)
        program = puzzle.program
        inputs = set()
        for image, options, answer, board, option_boards in _items(puzzle):
            assert options.shape == (4, 64, 64) and options.dtype == np.uint8
            assert 1 <= len(board) <= 3 and is_valid_example(program, board)
            assert np.array_equal(image, render_board(board))
            assert option_boards[answer] == run_program(program, board)
            assert option_boards[answer] != board, "the program changes every input"
            for opt, ob in zip(options, option_boards):
                assert np.array_equal(opt, render_board(ob))
                assert ob != board
            flat = options.reshape(4, -1)
            assert len({row.tobytes() for row in flat}) == 4, "all options distinct"
            inputs.add(board)
        assert len(inputs) == 7, "inputs are distinct"


def test_exactly_one_option_fits_the_examples_among_distractor_programs():
    # Query distractors come from programs that fail at least one example: re-run every program of
    # the shift1 family (4 programs) and check only the hidden one explains all examples.
    for seed in range(20):
        puzzle = generate_puzzle(np.random.default_rng(seed), "shift1")
        consistent = [s for s in ("shiftright", "shiftleft", "shiftup", "shiftdown")
                      if all(run_program([s, "out"], ex.input_board) == ex.option_boards[ex.answer]
                             for ex in puzzle.examples)]
        assert consistent == [puzzle.program[0]]


def test_objects_examples_and_length_are_honoured():
    puzzle = generate_puzzle(np.random.default_rng(0), "mixed", n_examples=3, objects=(2, 2), length=4)
    assert len(puzzle.examples) == 3 and primitive_count(puzzle.program) == 4
    assert all(len(ex.input_board) == 2 for ex in puzzle.examples) and len(puzzle.query_board) == 2


def test_same_seed_same_puzzle_and_independent_of_count():
    a = list(generate_puzzles(7, 3, "shape"))
    b = list(generate_puzzles(7, 5, "shape"))[:3]
    for p, q in zip(a, b):
        assert p.id == q.id and p.program == q.program and p.query_answer == q.query_answer
        assert np.array_equal(p.query_options, q.query_options)
    assert [p.id for p in a] == ["0000", "0001", "0002"]
    assert a[0].program != a[1].program or not np.array_equal(a[0].query, a[1].query)
    c = generate_puzzle(puzzle_rng(7, 1), "shape", puzzle_id="0001")
    assert np.array_equal(c.query_options, a[1].query_options)


def test_impossible_settings_raise_a_user_error():
    with pytest.raises(NarError, match="could not generate"):
        generate_puzzle(np.random.default_rng(0), "shift1", objects=(9, 9))  # every shift collides
    with pytest.raises(ValueError):
        generate_puzzle(np.random.default_rng(0), "mixed", objects=(3, 1))
    with pytest.raises(ValueError):
        generate_puzzle(np.random.default_rng(0), "spin")


def _leak_scores(option_sets):
    """Accuracy of 'closest to the other three' and 'closest to the input' on (input, options, answer)."""
    consensus = nearest_input = 0
    for image, options, answer in option_sets:
        flat = options.reshape(len(options), -1).astype(np.int32)
        pairwise = np.abs(flat[:, None] - flat[None]).sum(-1)
        consensus += int(np.argmin(pairwise.sum(1)) == answer)
        nearest_input += int(np.argmin(np.abs(flat - image.reshape(1, -1).astype(np.int32)).sum(1)) == answer)
    n = len(option_sets)
    return consensus / n, nearest_input / n


def test_distractors_do_not_leak_the_answer():
    # 500 puzzles, 125 of each family: option-only heuristics must score chance (25% +- 6 points).
    puzzles = [p for family in FAMILIES for p in generate_puzzles(2024, 125, family)]
    assert len(puzzles) == 500
    consensus, nearest = _leak_scores([(p.query, p.query_options, p.query_answer) for p in puzzles])
    assert abs(consensus - 0.25) <= 0.06, consensus
    assert abs(nearest - 0.25) <= 0.06, nearest
    # the example options follow the same scheme
    consensus, nearest = _leak_scores([(e.input, e.options, e.answer) for p in puzzles for e in p.examples])
    assert abs(consensus - 0.25) <= 0.04, consensus
    assert abs(nearest - 0.25) <= 0.04, nearest
    # answers are spread evenly over positions
    positions = np.bincount([p.query_answer for p in puzzles], minlength=4) / 500
    assert (np.abs(positions - 0.25) <= 0.06).all(), positions


def test_restyle_keeps_the_puzzle_and_draws_each_shape_one_new_way():
    import numpy as np

    from nar_solver.world.puzzle import generate_puzzles, restyle

    puzzle = next(generate_puzzles(3, 1, "shape", n_examples=3, shapes=("k", "u", "psi", "w")))
    assert {o.shape for e in puzzle.examples for o in e.input_board.objects} <= {"k", "u", "psi", "w"}
    styled = restyle(puzzle, np.random.default_rng(0))
    assert styled.query_answer == puzzle.query_answer and len(styled.examples) == 3
    assert not np.array_equal(styled.query, puzzle.query)

    def tile(image, obj):
        r, c = 2 + 20 * obj.y, 2 + 20 * obj.x
        return image[r:r + 20, c:c + 20]

    # one drawing per shape: every object of a shape looks the same everywhere in the puzzle
    drawings: dict = {}
    for example in styled.examples:
        for image, board in [(example.input, example.input_board), *zip(example.options, example.option_boards)]:
            for obj in board.objects:
                drawings.setdefault(obj.shape, tile(image, obj))
                assert np.array_equal(tile(image, obj), drawings[obj.shape])
    assert drawings
