"""`nar-solver generate`: reproducible puzzle sets in both layouts; bad options exit 2."""
import pytest
from click.testing import CliRunner

from nar_solver.cli import main
from nar_solver.world.formats import load_puzzles
from nar_solver.world.program import primitive_count


def _run(*args):
    return CliRunner().invoke(main, ["generate", *map(str, args)])


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_folders_are_loadable_and_byte_identical_for_a_seed(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    result = _run(a, "--count", 3, "--seed", 9, "--family", "shift", "--objects", "2-3", "--length", 2)
    assert result.exit_code == 0, result.output
    assert "wrote 3 shift puzzles" in result.output
    assert _run(b, "--count", 3, "--seed", 9, "--family", "shift", "--objects", "2-3", "--length", 2).exit_code == 0
    files = _files(a)
    assert files == _files(b) and len(files) == 3 * 36
    assert _run(c, "--count", 3, "--seed", 10, "--family", "shift", "--objects", "2-3").exit_code == 0
    assert _files(c) != files
    puzzles = load_puzzles(a)
    assert [p.id for p in puzzles] == ["0000", "0001", "0002"]
    for p in puzzles:
        assert p.family == "shift" and primitive_count(p.program) == 2 and p.query_answer is not None
        assert all(2 <= len(ex.input_board) <= 3 for ex in p.examples)


def test_fewshot_layout(tmp_path):
    out = tmp_path / "fs"
    assert _run(out, "-n", 2, "--family", "shape", "--format", "fewshot", "--examples", 4).exit_code == 0
    assert (out / "problems.json").is_file() and len(list((out / "images").glob("*.png"))) == 2 * (5 + 4 * 5)
    puzzles = load_puzzles(out)
    assert len(puzzles) == 2 and all(len(p.examples) == 4 for p in puzzles)
    again = tmp_path / "fs2"
    _run(again, "-n", 2, "--family", "shape", "--format", "fewshot", "--examples", 4)
    assert _files(out) == _files(again)


@pytest.mark.parametrize("args, hint", [
    (["--objects", "0-3"], "--objects"),
    (["--objects", "3-1"], "--objects"),
    (["--objects", "a-b"], "--objects"),
    (["--objects", "1-10"], "--objects"),
    (["--family", "spin"], "--family"),
    (["--count", "0"], "--count"),
    (["--family", "shift1", "--length", "2"], "--length"),
    (["--format", "zip"], "--format"),
])
def test_bad_options_are_usage_errors(tmp_path, args, hint):
    result = _run(tmp_path / "out", *args)
    assert result.exit_code == 2 and hint in result.output
    assert not (tmp_path / "out").exists()


def test_single_number_of_objects(tmp_path):
    assert _run(tmp_path / "o", "-n", 1, "--objects", "2", "--family", "shift1").exit_code == 0
    assert all(len(ex.input_board) == 2 for ex in load_puzzles(tmp_path / "o")[0].examples)


def test_non_empty_output_and_impossible_settings_exit_2_with_one_line(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    result = _run(tmp_path / "full", "-n", 1)
    assert result.exit_code == 2 and "not empty" in result.output
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    result = _run(tmp_path / "impossible", "-n", 1, "--family", "shift1", "--objects", "9-9")
    assert result.exit_code == 2 and "could not generate" in result.output
    assert "Traceback" not in result.output
