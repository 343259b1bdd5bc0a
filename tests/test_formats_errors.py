"""Bad puzzle input: each problem is one PuzzleError line naming the file and what is wrong."""
import json

import numpy as np
import pytest
from PIL import Image

from nar_solver.errors import PuzzleError
from nar_solver.world.formats import load_grey_png, load_puzzle, load_puzzles, save_puzzle, write_fewshot
from nar_solver.world.puzzle import generate_puzzles


@pytest.fixture(scope="module")
def puzzle():
    return next(generate_puzzles(5, 1, "shift"))


@pytest.fixture
def folder(tmp_path, puzzle):
    save_puzzle(puzzle, tmp_path / "p")
    return tmp_path / "p"


@pytest.fixture
def fewshot(tmp_path, puzzle):
    write_fewshot([puzzle, puzzle], tmp_path / "fs" / "problems.json", tmp_path / "fs" / "images")
    return tmp_path / "fs"


def _error(load, path) -> str:
    with pytest.raises(PuzzleError) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message, "one line"
    return message


def _edit_json(path, edit):
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


def test_missing_png(folder):
    (folder / "query_option_2.png").unlink()
    message = _error(load_puzzle, folder)
    assert str(folder / "query_option_2.png") in message and "missing image" in message


def test_png_of_wrong_size(folder):
    Image.new("RGB", (32, 48), "white").save(folder / "example_1_input.png")
    message = _error(load_puzzle, folder)
    assert str(folder / "example_1_input.png") in message and "32x48" in message and "64x64" in message


@pytest.mark.parametrize("mode", ["I;16", "LA", "1"])
def test_png_of_wrong_mode(folder, mode):
    Image.new(mode, (64, 64)).save(folder / "query.png")
    message = _error(load_puzzle, folder)
    assert str(folder / "query.png") in message and f"unsupported image mode '{mode}'" in message


def test_corrupt_png(folder):
    path = folder / "example_0_option_3.png"
    path.write_bytes(path.read_bytes()[:60])  # truncated
    message = _error(load_puzzle, folder)
    assert str(path) in message and "not a readable PNG" in message
    path.write_bytes(b"this is not an image at all")
    assert "not a readable PNG" in _error(load_puzzle, folder)


def test_jpeg_named_png(folder):
    Image.new("RGB", (64, 64), "white").save(folder / "query.png", format="JPEG")
    assert "not a PNG image (found JPEG)" in _error(load_puzzle, folder)


def test_option_counts_disagree(folder):
    _edit_json(folder / "puzzle.json", lambda d: d["examples"][2]["options"].pop())
    message = _error(load_puzzle, folder)
    assert str(folder / "puzzle.json") in message
    assert "example 2 has 3 options but the query has 4" in message


def test_malformed_json(folder):
    (folder / "puzzle.json").write_text('{"examples": [1, 2,,]}')
    message = _error(load_puzzle, folder)
    assert str(folder / "puzzle.json") in message and "malformed JSON" in message and "line 1" in message


@pytest.mark.parametrize("where", ["example", "query"])
def test_answer_out_of_range(folder, where):
    def edit(d):
        (d["examples"][4] if where == "example" else d["query"])["answer"] = 4
    _edit_json(folder / "puzzle.json", edit)
    message = _error(load_puzzle, folder)
    assert str(folder / "puzzle.json") in message and "answer index 4 out of range for 4 options" in message


def test_example_without_answer_and_bad_types(folder):
    _edit_json(folder / "puzzle.json", lambda d: d["examples"][0].pop("answer"))
    assert "examples[0]: missing 'answer'" in _error(load_puzzle, folder)
    _edit_json(folder / "puzzle.json", lambda d: d["examples"][0].update(answer="two"))
    assert "answer must be an integer" in _error(load_puzzle, folder)
    _edit_json(folder / "puzzle.json", lambda d: d.update(examples="none"))
    assert "'examples' must be a non-empty list" in _error(load_puzzle, folder)


def test_image_path_must_stay_in_the_folder(folder):
    _edit_json(folder / "puzzle.json", lambda d: d["query"].update(input="../elsewhere.png"))
    assert "must be relative to the puzzle folder" in _error(load_puzzle, folder)


def test_missing_puzzle_json_and_unknown_layouts(tmp_path):
    (tmp_path / "empty").mkdir()
    assert "not a puzzle folder" in _error(load_puzzles, tmp_path / "empty")
    assert "no such file or folder" in _error(load_puzzles, tmp_path / "nowhere")
    assert "missing file" in _error(load_puzzle, tmp_path / "empty")


def test_fewshot_errors(fewshot):
    problems = fewshot / "problems.json"
    original = problems.read_text()

    (fewshot / "images" / "1_3_2_option.png").unlink()
    message = _error(load_puzzles, fewshot)
    assert str(fewshot / "images" / "1_3_2_option.png") in message and "missing image" in message

    problems.write_text(original[:-20])
    assert "malformed JSON" in _error(load_puzzles, fewshot) and str(problems) in _error(load_puzzles, fewshot)

    data = json.loads(original)
    data[1][0][4][1] = data[1][0][4][1][:3]
    problems.write_text(json.dumps(data))
    assert "problem 1: example 4 has 3 options but the query has 4" in _error(load_puzzles, fewshot)

    data = json.loads(original)
    data[0][3] = 9
    problems.write_text(json.dumps(data))
    assert "problem 0, query: answer index 9 out of range" in _error(load_puzzles, fewshot)

    data = json.loads(original)
    data[0][0][1][2] = -1
    problems.write_text(json.dumps(data))
    assert "problem 0, example 1: answer index -1 out of range" in _error(load_puzzles, fewshot)

    problems.write_text(json.dumps({"not": "a list"}))
    assert "expected a JSON list of problems" in _error(load_puzzles, fewshot)


def test_fewshot_layout_ambiguity(fewshot):
    (fewshot / "other.json").write_text("[]")
    assert "several JSON files" in _error(load_puzzles, fewshot)


def test_load_grey_png_names_the_file(tmp_path):
    path = tmp_path / "x.png"
    Image.fromarray(np.zeros((64, 65), np.uint8)).save(path)
    message = _error(load_grey_png, path)
    assert message.startswith(str(path)) and "65x64" in message
