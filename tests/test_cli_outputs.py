"""What solve, evaluate and tune tell the user beyond the answer: the model/manifold fit warning
(--strict-model), tune's statistics at 100% accuracy, and where default outputs go."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from nar_solver.cli import main
from nar_solver.solve.fit import fit_problem
from nar_solver.run.shipped import shipped_folder
from nar_solver.world.formats import write_puzzle_folders
from nar_solver.world.puzzle import generate_puzzles
from figure_helpers import capture_figures, tick_labels

BOARDS = shipped_folder("boards")
OBJECTS = shipped_folder("objects")


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_fit_problem_names_both_sides():
    assert fit_problem("objects-xy", "objects") is None and fit_problem("board", "boards") is None
    assert fit_problem("board", None) is None                      # nothing recorded: nothing to say
    assert "trained on 'boards'" in fit_problem("objects", "boards")
    assert "needs a model of board images" in fit_problem("board", "dsprites")
    assert fit_problem("objects-xy", "/data/puzzles") is not None  # a puzzle folder holds boards


@pytest.mark.parametrize("manifold, checkpoint", [("objects-xy", BOARDS), ("board", OBJECTS)])
def test_a_mismatched_model_warns_on_stderr_and_strict_refuses_it(manifold, checkpoint):
    args = ("solve", "puzzles/shift1-a", "--manifold", manifold, "--checkpoint", checkpoint, "--generations", "0")
    warned = invoke(*args, "--json")
    assert warned.exit_code == 0, warned.output
    assert warned.stderr.startswith("warning: the model was trained on") and warned.stderr.count("\n") == 1
    assert f"--manifold {manifold}" in warned.stderr
    json.loads(warned.stdout)                                       # stdout stays pure JSON
    refused = invoke(*args, "--strict-model")
    assert refused.exit_code == 2 and refused.stdout == ""
    assert refused.stderr.startswith("error: ") and "(refused: --strict-model)" in refused.stderr
    assert refused.stderr.count("\n") == 1
    matched = invoke("solve", "puzzles/shift1-a", "--manifold", manifold, "--generations", "0", "--strict-model")
    assert matched.exit_code == 0 and matched.stderr == ""


def test_evaluate_and_tune_check_the_fit_too(tmp_path):
    write_puzzle_folders(generate_puzzles(5, 1, "shift1"), tmp_path / "set")
    for command, extra in (("evaluate", ()), ("tune", ("--population", "4", "--generations", "0",
                                                          "--figure", tmp_path / "t.png"))):
        refused = invoke(command, tmp_path / "set", "--checkpoint", BOARDS, "--strict-model", *extra)
        assert refused.exit_code == 2 and "(refused: --strict-model)" in refused.stderr, refused.output
    assert not (tmp_path / "t.png").exists()


def test_tune_on_puzzles_it_all_solves_writes_json_and_a_figure(tmp_path, monkeypatch):
    """The issue's repro: --generations 0 on 10 puzzles that it all solves ended in 'yerr must not
    contain negative values' and lost the JSON."""
    write_puzzle_folders(generate_puzzles(11, 10, "shift1"), tmp_path / "gen")
    monkeypatch.chdir(tmp_path)
    drawn = capture_figures(monkeypatch)
    result = invoke("tune", "gen", "--limit", "10", "--population", "8", "--generations", "0",
                    "--figure", "t.png", "--json-out", "t.json", "--repeats", "1")
    assert result.exit_code == 0, result.output + result.stderr
    data = json.loads((tmp_path / "t.json").read_text())
    (point,) = data["points"]
    assert point["correct"] == point["n"] == 10 and point["high"] == 1.0 and point["low"] < 1.0
    (ax,) = drawn["t.png"].panels
    (line,) = [l for l in ax.get_lines() if l.get_label() == "population 8"]
    assert list(line.get_ydata()) == [100.0] and (tmp_path / "t.png").is_file()   # the one point, at 100%
    assert ax.get_xscale() == "linear"                                          # one time: no log decade


def test_tune_writes_its_json_before_drawing(tmp_path):
    write_puzzle_folders(generate_puzzles(12, 2, "shift1"), tmp_path / "set")
    result = invoke("tune", tmp_path / "set", "--population", "4", "--generations", "0", "--repeats", "1",
                    "--figure", tmp_path / "t.unknownformat", "--json-out", tmp_path / "t.json")
    assert result.exit_code == 2 and "cannot write a figure of this type" in result.stderr
    assert len(json.loads((tmp_path / "t.json").read_text())["points"]) == 1


def _snapshot(folder):
    return sorted((p.relative_to(folder), p.stat().st_mtime_ns) for p in folder.rglob("*"))


def test_plot_metrics_and_tune_write_under_runs_by_default(tmp_path, monkeypatch):
    """Never into the model folder (the shipped ones are committed) nor loose in the current folder:
    runs/<command>-<name>/, and each command says where."""
    before = _snapshot(OBJECTS)
    write_puzzle_folders(generate_puzzles(13, 2, "shift1"), tmp_path / "gen")
    monkeypatch.chdir(tmp_path)
    drawn = capture_figures(monkeypatch)
    plot = invoke("plot", OBJECTS)
    assert plot.exit_code == 0, plot.output
    for name in ("losses.png", "reconstructions.png", "traversal.png"):
        assert f"wrote runs/plot-objects/{name}" in plot.stdout
        assert drawn[name].path == Path("runs") / "plot-objects" / name and drawn[name].path.is_file()
    assert len(drawn["losses.png"].panels) == 6 and len(tick_labels(drawn["traversal.png"].panels[0])) == 10
    metrics = invoke("metrics", OBJECTS, "--preset", "fast", "--device", "cpu")
    assert metrics.exit_code == 0, metrics.output
    assert (tmp_path / "runs" / "metrics-objects" / "metrics-objects-fast.json").is_file()
    assert "runs/metrics-objects/metrics-objects-fast.json" in metrics.stdout.replace("\n", "")
    tune = invoke("tune", "gen", "--population", "4", "--generations", "0", "--repeats", "1")
    assert tune.exit_code == 0, tune.output
    assert "results: runs/tune-gen/tune.json" in tune.stdout and "figure: runs/tune-gen/tune.png" in tune.stdout
    assert (tmp_path / "runs" / "tune-gen" / "tune.png").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gen", "runs"]
    assert _snapshot(OBJECTS) == before
