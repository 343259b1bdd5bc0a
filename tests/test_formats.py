"""Our puzzle folders and the few-shot-nar layout: round trips, detection, PNG reading."""
import json

import numpy as np
import pytest
from PIL import Image

from nar_solver.world.board import Board
from nar_solver.world.formats import (
    detect_layout, dumps_json, image_kind, iter_image_paths, load_grey_png, load_puzzle, load_puzzles,
    read_fewshot, save_puzzle, write_fewshot, write_puzzle_folders,
)
from nar_solver.world.puzzle import generate_puzzles


@pytest.fixture(scope="module")
def puzzles():
    return list(generate_puzzles(11, 3, "mixed"))


def _same(a, b, boards=True):
    """Same images and answers; with ``boards``, also the same boards and program."""
    assert a.query_answer == b.query_answer and a.n_options == b.n_options
    assert a.program == b.program or not boards
    assert np.array_equal(a.query, b.query) and np.array_equal(a.query_options, b.query_options)
    for x, y in zip(a.examples, b.examples, strict=True):
        assert x.answer == y.answer
        assert np.array_equal(x.input, y.input) and np.array_equal(x.options, y.options)
        if boards:
            assert x.input_board == y.input_board and x.option_boards == y.option_boards
    if boards:
        assert a.query_board == b.query_board and a.query_option_boards == b.query_option_boards


def test_folder_round_trip(tmp_path, puzzles):
    puzzle = puzzles[0]
    json_path = save_puzzle(puzzle, tmp_path / "p")
    assert json_path.name == "puzzle.json"
    document = json.loads(json_path.read_text())
    assert document["program"] == puzzle.program and document["query"]["answer"] == puzzle.query_answer
    assert len(list((tmp_path / "p").glob("*.png"))) == 35
    back = load_puzzle(tmp_path / "p")
    _same(puzzle, back)
    assert back.id == puzzle.id and back.family == "mixed"
    _same(puzzle, load_puzzle(json_path))  # the puzzle.json itself is accepted too


def test_pngs_are_rgb_with_equal_channels(tmp_path, puzzles):
    save_puzzle(puzzles[0], tmp_path)
    with Image.open(tmp_path / "query.png") as image:
        assert image.mode == "RGB" and image.size == (64, 64)
        rgb = np.array(image)
    assert (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()


def test_fewshot_round_trip_and_names(tmp_path, puzzles):
    assert write_fewshot(puzzles, tmp_path / "problems.json", tmp_path / "images") == 3
    names = {p.name for p in (tmp_path / "images").iterdir()}
    assert len(names) == 3 * 35
    assert {"2_5_input.png", "2_5_3_option.png", "2_query.png", "2_3_query_option.png"} <= names
    problems = json.loads((tmp_path / "problems.json").read_text())
    assert len(problems) == 3 and len(problems[0]) == 5 and len(problems[0][0]) == 6
    assert problems[1][3] == puzzles[1].query_answer and problems[1][4] == puzzles[1].program
    back = read_fewshot(tmp_path / "problems.json", tmp_path / "images")
    for a, b in zip(puzzles, back, strict=True):
        _same(a, b)
    assert [p.id for p in back] == ["0", "1", "2"]
    assert len(read_fewshot(tmp_path / "problems.json", tmp_path / "images", limit=2)) == 2


def test_fewshot_board_encoding_is_opaque(tmp_path, puzzles):
    write_fewshot(puzzles[:1], tmp_path / "set.json", tmp_path / "imgs")
    problems = json.loads((tmp_path / "set.json").read_text())
    examples, _, query_options, solution, _ = problems[0]
    foreign = [[{"grid": "anything"}, ["?", 3, None, {"x": 1}], ex[2]] for ex in examples]
    (tmp_path / "set.json").write_text(json.dumps([[foreign, "opaque", [1, 2, 3, 4], solution]]))
    back = load_puzzles(tmp_path)[0]  # no program element, unknown boards: still solvable
    _same(puzzles[0], back, boards=False)
    assert back.program is None and back.query_board is None and back.examples[0].option_boards is None


def test_unlabelled_query_loads(tmp_path, puzzles):
    save_puzzle(puzzles[0], tmp_path)
    document = json.loads((tmp_path / "puzzle.json").read_text())
    document["query"]["answer"] = None
    del document["program"]
    (tmp_path / "puzzle.json").write_text(json.dumps(document))
    back = load_puzzle(tmp_path)
    assert back.query_answer is None and not back.labelled and back.program is None


def test_layout_detection_and_load_puzzles(tmp_path, puzzles):
    write_puzzle_folders(puzzles, tmp_path / "set")
    write_fewshot(puzzles, tmp_path / "fs" / "problems.json", tmp_path / "fs" / "images")
    assert detect_layout(tmp_path / "set" / "0001") == "puzzle"
    assert detect_layout(tmp_path / "set") == "folders"
    assert detect_layout(tmp_path / "fs") == "fewshot"
    assert detect_layout(tmp_path / "fs" / "problems.json") == "fewshot"
    assert [p.id for p in load_puzzles(tmp_path / "set")] == [p.id for p in puzzles]
    assert len(load_puzzles(tmp_path / "set", limit=2)) == 2
    assert len(load_puzzles(tmp_path / "set" / "0002")) == 1
    for a, b in zip(puzzles, load_puzzles(tmp_path / "fs" / "problems.json"), strict=True):
        _same(a, b)


def test_fewshot_images_beside_the_json(tmp_path, puzzles):
    write_fewshot(puzzles[:2], tmp_path / "data.json", tmp_path)
    for a, b in zip(puzzles[:2], load_puzzles(tmp_path), strict=True):
        _same(a, b)


def test_folders_load_in_natural_order(tmp_path, puzzles):
    for name, puzzle in zip(["p10", "p9", "p100"], puzzles):
        save_puzzle(puzzle, tmp_path / name)
    assert [p.id for p in load_puzzles(tmp_path)] == [puzzles[1].id, puzzles[0].id, puzzles[2].id]


def test_iter_image_paths_and_kinds(tmp_path, puzzles):
    write_puzzle_folders(puzzles, tmp_path / "set")
    write_fewshot(puzzles, tmp_path / "fs" / "problems.json", tmp_path / "fs" / "images")
    for root in (tmp_path / "set", tmp_path / "fs"):
        assert len(iter_image_paths(root)) == 105
        inputs = iter_image_paths(root, kinds=["input"])
        assert len(inputs) == 18 and all(image_kind(p) == "input" for p in inputs)
        assert len(iter_image_paths(root, kinds=["query", "query_option"])) == 15
    first = iter_image_paths(tmp_path / "fs", kinds=["input"])[:7]
    assert [p.name for p in first] == [f"0_{e}_input.png" for e in range(6)] + ["1_0_input.png"]
    assert image_kind("example_3_option_1.png") == "option" and image_kind("notes.png") is None


def test_grey_png_reader_accepts_l_rgb_rgba_palette(tmp_path):
    grey = np.full((64, 64), 255, np.uint8)
    grey[10:20, 30:40] = 40
    Image.fromarray(grey, "L").save(tmp_path / "l.png")
    Image.fromarray(np.repeat(grey[..., None], 3, 2), "RGB").save(tmp_path / "rgb.png")
    Image.fromarray(grey, "L").convert("P").save(tmp_path / "p.png")
    rgba = np.zeros((64, 64, 4), np.uint8)  # transparent everywhere except an opaque dark square
    rgba[10:20, 30:40] = (40, 40, 40, 255)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    for name in ("l", "rgb", "p", "rgba"):
        image = load_grey_png(tmp_path / f"{name}.png")
        assert image.dtype == np.uint8 and image.shape == (64, 64)
        assert np.array_equal(image, grey), name


def test_json_is_compact_but_equivalent():
    document = {"b": [["k", 1, 2]], "a": {"options": ["x.png", "y.png"]}, "odd": ["[", "]"]}
    text = dumps_json(document)
    assert json.loads(text) == document and '["k", 1, 2]' in text
    assert text.index('"a"') < text.index('"b"')


def test_board_json_round_trip():
    board = Board.of([("psi", 2, 2), ("b", 0, 1)])
    assert Board.from_json(json.loads(json.dumps(board.to_json()))) == board
