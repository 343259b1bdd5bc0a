"""Primitives (clamping included), out/clear, the grammar, validity and sampling by family."""
import numpy as np
import pytest

from nar_solver.world.board import Board
from nar_solver.world.program import (
    CONVERSIONS, FAMILIES, PRIMITIVES, SHIFTS, apply_primitive, count_outs, is_valid_example,
    is_valid_program, primitive_count, run_program, sample_program,
)

B = Board.of


def test_token_sets():
    assert SHIFTS == ("shiftright", "shiftleft", "shiftup", "shiftdown")
    assert CONVERSIONS == ("to-square", "to-circle", "to-triangle", "to-delta")
    assert PRIMITIVES == SHIFTS + CONVERSIONS + ("flip",)
    assert FAMILIES == ("shift1", "shift", "shape", "mixed")


@pytest.mark.parametrize("name, moved", [
    ("shiftright", ("b", 2, 1)), ("shiftleft", ("b", 0, 1)), ("shiftup", ("b", 1, 0)), ("shiftdown", ("b", 1, 2)),
])
def test_shifts_move_every_object_one_cell(name, moved):
    assert apply_primitive(name, B([("b", 1, 1)])) == B([moved])


@pytest.mark.parametrize("name, start", [
    ("shiftright", ("k", 2, 0)), ("shiftleft", ("k", 0, 2)), ("shiftup", ("k", 1, 0)), ("shiftdown", ("k", 2, 2)),
])
def test_shifts_clamp_at_the_edge(name, start):
    board = B([start])
    assert apply_primitive(name, board) == board  # stays put: nothing wraps or disappears


def test_shift_moves_all_objects_and_clamping_can_collide():
    board = B([("b", 1, 0), ("k", 2, 0), ("m", 0, 2)])
    out = apply_primitive("shiftright", board)
    assert out == B([("b", 2, 0), ("k", 2, 0), ("m", 1, 2)])
    assert len(out) == 3 and not out.has_distinct_cells


@pytest.mark.parametrize("name, shape", [
    ("to-square", "square"), ("to-circle", "circle"), ("to-triangle", "triangle"), ("to-delta", "delta"),
])
def test_conversions_replace_shape_keep_cell(name, shape):
    board = B([("b", 0, 0), ("triangle", 2, 1)])
    assert apply_primitive(name, board) == B([(shape, 0, 0), (shape, 2, 1)])


def test_flip_swaps_triangle_and_delta_only():
    board = B([("triangle", 0, 0), ("delta", 1, 0), ("circle", 2, 0), ("square", 0, 1), ("psi", 1, 1)])
    assert apply_primitive("flip", board) == B(
        [("delta", 0, 0), ("triangle", 1, 0), ("circle", 2, 0), ("square", 0, 1), ("psi", 1, 1)])


def test_unknown_primitive():
    with pytest.raises(ValueError):
        apply_primitive("rotate", B([("b", 0, 0)]))


def test_out_emits_working_board_and_clear_resets_it():
    board = B([("triangle", 0, 0)])
    # first out emits the input itself; then shift + flip; clear goes back to the input
    tokens = ["out", "shiftright", "flip", "out", "clear", "shiftdown", "out"]
    assert run_program(tokens, board) == B([("triangle", 0, 0), ("delta", 1, 0), ("triangle", 0, 1)])
    # without clear the working board carries on from the last out
    tokens = ["shiftright", "out", "shiftdown", "out"]
    assert run_program(tokens, board) == B([("triangle", 1, 0), ("triangle", 1, 1)])
    assert count_outs(tokens) == 2 and primitive_count(tokens) == 2


@pytest.mark.parametrize("tokens, ok", [
    (["shiftright", "out"], True),
    (["out", "shiftright", "out"], True),                      # out may stand first
    (["shiftright", "out", "clear", "flip", "out"], True),
    (["to-square", "flip", "to-circle", "out"], True),
    ([], False),
    (["shiftright"], False),                                   # last token must be out
    (["shiftright", "out", "clear"], False),
    (["out", "out"], False),                                   # out never follows out
    (["shiftright", "out", "out"], False),
    (["clear", "shiftright", "out"], False),                   # clear only right after out
    (["shiftright", "clear", "out"], False),
    (["to-square", "to-circle", "out"], False),                # adjacent conversions
    (["shiftup", "out", "shiftup", "out", "shiftup", "out", "shiftup", "out"], False),  # > 3 outs
    (["shiftup", "jump", "out"], False),
])
def test_grammar(tokens, ok):
    assert is_valid_program(tokens) is ok


def test_run_program_refuses_ungrammatical_programs():
    with pytest.raises(ValueError):
        run_program(["out", "out"], B([("b", 0, 0)]))


def test_valid_example_needs_distinct_cells_and_full_copies():
    two = B([("b", 1, 0), ("k", 2, 0)])
    assert is_valid_example(["shiftdown", "out"], two)
    assert not is_valid_example(["shiftright", "out"], two)              # clamped collision
    assert is_valid_example(["out", "shiftdown", "out"], two)            # 4 objects in 4 cells
    assert not is_valid_example(["out", "shiftright", "out"], two)       # copy lands on the input
    one = B([("b", 0, 0)])
    assert is_valid_example(["out", "shiftright", "out", "shiftright", "out"], one)  # 3 outs
    assert not is_valid_example(["shiftright", "out", "clear", "shiftright", "out"], one)  # same cell twice
    assert not is_valid_example(["shiftdown", "out"], B([("b", 0, 0), ("k", 0, 0)]))  # bad input


@pytest.mark.parametrize("family", FAMILIES)
def test_sampled_programs_are_grammatical_and_of_their_family(family):
    rng = np.random.default_rng(0)
    seen_branch = False
    for _ in range(300):
        tokens = sample_program(rng, family)
        assert is_valid_program(tokens), tokens
        prims = [t for t in tokens if t in PRIMITIVES]
        if family == "shift1":
            assert len(prims) == 1 and prims[0] in SHIFTS and tokens == prims + ["out"]
        elif family == "shift":
            assert 1 <= len(prims) <= 3 and set(prims) <= set(SHIFTS) and count_outs(tokens) == 1
        elif family == "shape":
            assert 1 <= len(prims) <= 3 and set(prims) <= set(CONVERSIONS) | {"flip"} and count_outs(tokens) == 1
        else:
            assert 1 <= len(prims) <= 3 and 1 <= count_outs(tokens) <= 3
            seen_branch |= count_outs(tokens) > 1
    assert seen_branch or family != "mixed"


@pytest.mark.parametrize("family, length", [("shift", 5), ("shape", 4), ("mixed", 6), ("shift1", 1)])
def test_sampling_by_length(family, length):
    rng = np.random.default_rng(1)
    for _ in range(50):
        tokens = sample_program(rng, family, length)
        assert primitive_count(tokens) == length and is_valid_program(tokens)


def test_sampling_rejects_bad_requests():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError):
        sample_program(rng, "rotations")
    with pytest.raises(ValueError):
        sample_program(rng, "shift1", 2)
    with pytest.raises(ValueError):
        sample_program(rng, "shift", 0)


def test_sampled_programs_do_something_on_an_ordinary_board():
    rng = np.random.default_rng(5)
    probe = B([("b", 1, 1)])
    for family in FAMILIES:
        for _ in range(200):
            tokens = sample_program(rng, family)
            assert run_program(tokens, probe) != probe, tokens
    assert all(sample_program(rng, "shape", 1) != ["flip", "out"] for _ in range(100))


def test_sampling_with_a_fixed_number_of_outs():
    rng = np.random.default_rng(2)
    for outs in (1, 2, 3):
        for _ in range(30):
            tokens = sample_program(rng, "mixed", None, outs)
            assert count_outs(tokens) == outs and is_valid_program(tokens)
    with pytest.raises(ValueError):
        sample_program(rng, "mixed", 1, 3)   # two extra outs need two gaps
    with pytest.raises(ValueError):
        sample_program(rng, "shift", 2, 2)   # only mixed programs branch
