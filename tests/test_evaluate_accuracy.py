"""Accuracy reports (Wilson interval, breakdowns, JSON schema) and the tuning sweep's Pareto logic."""
import json

import pytest

from nar_solver.errors import NarError
from scipy.stats import binomtest

from nar_solver.evaluate.accuracy import evaluate, wilson_interval
from nar_solver.evaluate.stats import error_bars
from nar_solver.evaluate.tuning import TunePoint, mark_pareto, parse_int_list, tune
from nar_solver.solve.ga import GAConfig
from nar_solver.solve.registry import make_solver
from nar_solver.solve.solver import SolverSettings
from nar_solver.world.puzzle import generate_puzzles
from solve_helpers import analytic_manifold


def test_wilson_interval_known_values():
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-3) and high == pytest.approx(0.9433, abs=1e-3)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    narrow, wide = wilson_interval(80, 100), wilson_interval(8, 10)
    assert narrow[1] - narrow[0] < wide[1] - wide[0]


@pytest.mark.parametrize("n", [1, 10, 200])
def test_wilson_interval_ends_exactly_at_0_and_1(n):
    """0/n starts at exactly 0 and n/n ends at exactly 1 (the hand-written formula gave
    0.9999999999999999 for 10/10, and an error bar below the point)."""
    low, high = wilson_interval(0, n)
    assert low == 0.0 and 0 < high < 1
    low, high = wilson_interval(n, n)
    assert high == 1.0 and 0 < low < 1
    assert error_bars(1.0, wilson_interval(n, n))[1] == 0.0 and error_bars(0.0, wilson_interval(0, n))[0] == 0.0
    assert min(error_bars(1.0, (0.7, 0.9999999999999999))) >= 0.0   # rounding can't make a bar negative


def test_wilson_interval_is_scipys():
    scipy_ci = binomtest(37, 52).proportion_ci(0.95, "wilson")
    assert wilson_interval(37, 52) == (scipy_ci.low, scipy_ci.high)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_report_counts_breaks_down_and_follows_the_json_schema():
    puzzles = list(generate_puzzles(4, 6, "shift")) + list(generate_puzzles(4, 4, "shape"))
    puzzles[0].query_answer = None  # unlabelled: solved and listed, not scored
    report = evaluate(puzzles, make_solver("random", SolverSettings(seed=0)))
    assert len(report.results) == 10 and report.n == 9
    assert report.correct == sum(r.correct for r in report.scored)
    data = json.loads(json.dumps(report.to_json()))
    assert {"accuracy", "n", "solver", "per_category", "results"} <= set(data)
    assert data["solver"] == "random" and data["n"] == 9
    assert set(data["results"][0]) == {"id", "answer", "correct_answer", "correct", "seconds", "scores", "confidence",
                                       "examples_solved", "n_examples", "categories", "abstain", "abstain_reason"}
    assert data["complete"] is True and data["n_skipped"] == 0 and data["abstained"] == 0
    assert data["results"][0]["correct"] is None
    assert all(len(r["scores"]) == 4 and r["examples_solved"] is None for r in data["results"])
    per = data["per_category"]
    assert set(per) >= {"family", "length", "objects", "outs"}
    assert per["family"]["shift"]["n"] == 5 and per["family"]["shape"]["n"] == 4
    assert sum(v["n"] for v in per["length"].values()) == 9
    for value in per["objects"].values():
        assert 0 <= value["low"] <= value["accuracy"] <= value["high"] <= 1


def test_pareto_front_and_recommendation():
    pts = [TunePoint(16, 10, 0.70, 100, 70, 0.1), TunePoint(32, 10, 0.80, 100, 80, 0.2),
           TunePoint(32, 25, 0.85, 100, 85, 0.5), TunePoint(64, 10, 0.78, 100, 78, 0.4),
           TunePoint(64, 50, 0.855, 100, 85, 2.0)]
    mark_pareto(pts, tolerance=0.01)
    assert [p.pareto for p in pts] == [True, True, True, False, True]
    assert [p.recommended for p in pts] == [False, False, True, False, False]
    mark_pareto(pts, tolerance=0.2)
    assert pts[0].recommended


def test_parse_int_list():
    assert parse_int_list("64, 16,32", "--population") == [16, 32, 64]
    with pytest.raises(NarError):
        parse_int_list("16,many", "--population")
    with pytest.raises(NarError):
        parse_int_list("", "--population")


def test_tune_sweeps_every_pair():
    puzzles = list(generate_puzzles(8, 3, "shift1"))
    settings = SolverSettings(ga=GAConfig(stop_margin=1e9))
    report = tune(puzzles, [4, 8], [0, 2], settings, analytic_manifold())
    assert {(p.population, p.generations) for p in report.points} == {(4, 0), (4, 2), (8, 0), (8, 2)}
    assert sum(p.recommended for p in report.points) == 1 and report.recommended.pareto
    assert all(p.n == 3 for p in report.points)
    assert json.loads(json.dumps(report.to_json()))["recommended"].keys() == {"population", "generations"}


def test_tune_times_every_pair_three_times_and_reports_the_median():
    puzzles = list(generate_puzzles(8, 2, "shift1"))
    report = tune(puzzles, [4], [0, 1], SolverSettings(), analytic_manifold())
    for p in report.points:
        assert len(p.timings) == 3 and p.seconds_per_puzzle == sorted(p.timings)[1]
    assert [len(p.timings) for p in tune(puzzles, [4], [0], SolverSettings(), analytic_manifold(),
                                         repeats=1).points] == [1]
    with pytest.raises(NarError):
        tune(puzzles, [4], [0], SolverSettings(), analytic_manifold(), repeats=0)


def _tune_report(seconds: list[float]):
    """A tuning report of 5 populations x 2 generations with the given times per point."""
    from types import SimpleNamespace

    points, k = [], 0
    for pop in (16, 32, 64, 128, 256):
        for gens in (10, 25):
            acc = 0.8 + 0.01 * k
            points.append(SimpleNamespace(population=pop, generations=gens, seconds_per_puzzle=seconds[k],
                                          accuracy=acc, interval=(acc - 0.05, min(1.0, acc + 0.05))))
            k += 1
    front = sorted(points, key=lambda p: p.seconds_per_puzzle)[-3:]
    return SimpleNamespace(points=points, pareto=front, recommended=front[0])


@pytest.mark.parametrize("seconds, scale", [
    ([0.031 + 0.0015 * k for k in range(10)], "linear"),   # a narrow range: the labels smeared on a log axis
    ([0.01 * 1.8 ** k for k in range(10)], "log"),        # three decades
])
def test_tuning_figure_ticks_are_readable_and_every_line_is_dark(tmp_path, monkeypatch, seconds, scale):
    from matplotlib.colors import to_rgb

    from figure_helpers import capture_figures
    from nar_solver.evaluate.figures import tuning_figure

    drawn = capture_figures(monkeypatch)
    tuning_figure(_tune_report(seconds), tmp_path / "tune.png")
    fig = drawn["tune.png"]
    (ax,) = fig.panels
    assert ax.get_xscale() == scale
    fig.figure.canvas.draw()
    shown = [t for t in ax.get_xticklabels() if t.get_text() and ax.get_xlim()[0] <= t.get_position()[0] <= ax.get_xlim()[1]]
    assert 2 <= len(shown) <= 8
    boxes = sorted((t.get_window_extent() for t in shown), key=lambda b: b.x0)
    assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:])), [t.get_text() for t in shown]   # none overlap
    assert not [t for t in ax.xaxis.get_minorticklabels() if t.get_text()]                      # no minor labels
    lines = [l for l in ax.get_lines() if l.get_label().startswith("population")]
    assert len(lines) == 5
    for line in lines:  # relative luminance well below white's 1.0 (viridis's last, yellow, was 0.87)
        r, g, b = to_rgb(line.get_color())
        assert 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.6, line.get_label()


def test_evaluate_set_runs_resumable_in_one_process_and_refuses_resume_under_torchrun(tmp_path):
    from nar_solver.distributed import DistContext
    from nar_solver.errors import NarError
    from nar_solver.evaluate.partial import PartialLog
    from nar_solver.evaluate.puzzle_run import evaluate_set
    from nar_solver.evaluate.sharded import as_entries
    from nar_solver.solve.baselines import PixelAnalogySolver
    from nar_solver.world.puzzle import generate_puzzles

    entries = as_entries(generate_puzzles(3, 3, "shift1"))
    log = PartialLog(tmp_path / "r.partial.jsonl")
    run = evaluate_set(entries, PixelAnalogySolver(), log=log, header={"h": 1}, ctx=DistContext())
    assert run.interrupted is None and run.log is log and run.report.n == 3
    assert len(log.path.read_text().splitlines()) == 1 + 3          # the header, then a line per puzzle
    with pytest.raises(NarError, match="--resume is for one process"):
        evaluate_set(entries, PixelAnalogySolver(), resume=True, ctx=DistContext(rank=0, world_size=2))
