"""Calibration on hand-made cases: reliability bins, ECE, the threshold sweep, temperature scaling;
--min-confidence abstains; the carry table's untrained-model path runs (tiny)."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from nar_solver.cli import main
from nar_solver.evaluate.accuracy import AccuracyReport, PuzzleResult
from nar_solver.evaluate.calibration import (expected_calibration_error, fit_temperature, reliability_table,
                                             softmax_confidence, threshold_sweep)
from nar_solver.solve.abstain import abstain_reason
from nar_solver.solve.registry import make_solver
from nar_solver.solve.solver import Solution, SolverSettings
from nar_solver.world.puzzle import generate_puzzles

ROOT = Path(__file__).resolve().parent.parent

# 10 answers at 0.95 (9 right), 10 at 0.55 (8 right), 5 at 0.25 (1 right)
CONF = [0.95] * 10 + [0.55] * 10 + [0.25] * 5
RIGHT = [True] * 9 + [False] + [True] * 8 + [False] * 2 + [True] + [False] * 4


def test_reliability_table_of_a_hand_made_case():
    bins = reliability_table(CONF, RIGHT)
    assert len(bins) == 10 and sum(b.n for b in bins) == 25
    high, mid, low = bins[9], bins[5], bins[2]
    assert (high.n, high.confidence, high.accuracy) == (10, pytest.approx(0.95), pytest.approx(0.9))
    assert (mid.n, mid.confidence, mid.accuracy) == (10, pytest.approx(0.55), pytest.approx(0.8))
    assert (low.n, low.confidence, low.accuracy) == (5, pytest.approx(0.25), pytest.approx(0.2))
    assert reliability_table([1.0], [True])[9].n == 1  # 1.0 falls in the last bin


def test_ece_of_a_hand_made_case():
    # 10/25 * 0.05 + 10/25 * 0.25 + 5/25 * 0.05
    assert expected_calibration_error(CONF, RIGHT) == pytest.approx(0.13)
    assert expected_calibration_error([0.8] * 5, [True] * 4 + [False]) == pytest.approx(0.0)
    assert expected_calibration_error([], []) == 0.0


def test_threshold_sweep_of_a_hand_made_case():
    rows = {r.threshold: r for r in threshold_sweep(CONF, RIGHT, (0.0, 0.5, 0.9, 0.99))}
    assert (rows[0.0].coverage, rows[0.0].answered, rows[0.0].accuracy) == (1.0, 25, pytest.approx(18 / 25))
    assert (rows[0.5].answered, rows[0.5].accuracy) == (20, pytest.approx(17 / 20))
    assert (rows[0.9].coverage, rows[0.9].wrong) == (pytest.approx(0.4), pytest.approx(0.1))
    assert (rows[0.99].answered, rows[0.99].accuracy, rows[0.99].wrong) == (0, 0.0, 0.0)


def test_temperature_scaling_recovers_the_temperature_that_drew_the_answers():
    rng = np.random.default_rng(0)
    scores = rng.normal(0.0, 1.0, size=(4000, 4))
    true_t = 2.5  # answers drawn from softmax(scores / 2.5): a solver at temperature 1 is overconfident
    p = np.exp(scores / true_t)
    p /= p.sum(1, keepdims=True)
    answers = np.array([rng.choice(4, p=row) for row in p])
    fitted = fit_temperature(scores, answers, np.ones(len(scores)))
    assert fitted == pytest.approx(true_t, rel=0.1)
    before = expected_calibration_error(softmax_confidence(scores, 1.0), scores.argmax(1) == answers)
    after = expected_calibration_error(softmax_confidence(scores, fitted), scores.argmax(1) == answers)
    assert after < 0.03 < before


def test_report_json_carries_calibration():
    results = [PuzzleResult(str(i), 0, 0 if r else 1, r, 0.1, c, None) for i, (c, r) in enumerate(zip(CONF, RIGHT))]
    data = AccuracyReport("ga", results).to_json()
    assert data["calibration"]["ece"] == pytest.approx(0.13)
    assert [b["n"] for b in data["calibration"]["bins"]][9] == 10
    assert {r["threshold"] for r in data["calibration"]["sweep"]} >= {0.0, 0.9}


def test_min_confidence_abstains_below_the_threshold():
    puzzle = next(iter(generate_puzzles(7_000_000, 1, "shift1")))
    solution = Solution(0, [1.0, 0.0, 0.0, 0.0], 0.6, 6, 6, 0.0, "ga", details={"temperature": 0.05})
    assert abstain_reason(puzzle, solution, min_confidence=0.5) is None
    assert "below --min-confidence 0.9" in abstain_reason(puzzle, solution, min_confidence=0.9)
    solver = make_solver("pixel", SolverSettings(min_confidence=1.0))
    answer = solver.solve(puzzle)
    assert answer.abstain and "min-confidence" in answer.abstain_reason and answer.confidence == 0.25
    assert not make_solver("pixel", SolverSettings()).solve(puzzle).abstain


def test_cli_min_confidence(tmp_path):
    folder = tmp_path / "set"
    runner = CliRunner()
    assert runner.invoke(main, ["generate", str(folder), "--count", "3", "--family", "shift1"]).exit_code == 0
    out = tmp_path / "r.json"
    result = runner.invoke(main, ["evaluate", str(folder), "--solver", "pixel", "--min-confidence", "1",
                                  "--json-out", str(out)])
    assert result.exit_code == 0, result.output
    assert "expected calibration error" in result.output and "threshold" in result.output
    data = json.loads(out.read_text())
    assert data["abstained"] == data["n"] == 3 and "calibration" in data
    bad = runner.invoke(main, ["evaluate", str(folder), "--solver", "pixel", "--min-confidence", "1.5"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_untrained_model_ablation_path_runs(tmp_path):
    spec = importlib.util.spec_from_file_location("carry_table_bench", ROOT / "bench" / "carry_table.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    tiny = dict(d_width=32, batch_size=8, latent_sample=64)
    model = bench.untrained_model("objects", tmp_path, steps=2, **tiny)
    config = json.loads((model / "config.json").read_text())
    assert (config["steps"], config["architecture"], config["data"]) == (2, "whatwhere32", "objects")  # the preset of the manifold's shipped model
    assert bench.untrained_model("objects", tmp_path, steps=2, **tiny) == model  # reused, not retrained
    lines = []
    rows = bench.carry_rows(["objects"], ["shift1"], 2, tmp_path, steps=2, train_overrides=tiny,
                            log=lambda *a, **k: lines.append(a[0]))
    assert [(r["manifold"], r["model"]) for r in rows] == [
        ("objects", "shipped"), ("objects", "untrained (2 steps)"), ("-", "no model")]
    assert all(r["families"]["shift1"]["n"] == 2 for r in rows) and len(lines) == 3
    assert "VAE's share" in bench.markdown(rows, ["shift1"], 2, "code")
