"""The solver with a real (tiny) learned model, and the solve / evaluate / tune commands.

The session fixture trains an object-level VAE for 250 steps (under a minute on one core) and
saves it as a normal checkpoint folder. Three things make that enough: PyTorch's default
initialisation and a log-variance bias of -6 at the start (posterior noise std 0.05), which skip
the long early plateau where the decoder ignores pure-noise codes; big, inky training glyphs
(square, circle) beside two letters; and the spatial broadcast decoder, which learns where the
glyph is far sooner and more reliably than the deconvolution decoder. Shift-only puzzles need only
the position axes.

Training then sits on a second plateau (loss ~300) until the decoder learns to place the glyph by
its code; on it the pure latent route solves 28% to 78% of one-object shifts, off it all of them.
When training leaves it is chaotic in the floating-point arithmetic, so it moves between CPUs (150
steps of the deconvolution decoder passed on an AMX machine and failed on AVX2). Measured on AVX2,
fp32, seeds 0-9 of this fixture, scored on 64 or 32 shift1 puzzles: the broadcast decoder had left
it by step 200 at every seed (3 of 10 still on it at 150), and from 200 to 400 steps solved every
puzzle but one (seed 8 at 200: 31 of 32); the deconvolution decoder (the default architecture, covered by the shipped model's tests)
left it between steps 150 and 400 at 9 seeds and was still on it at 400 at the tenth. Hence
broadcast32 and 250 steps, 50 past the latest exit measured.
"""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import nar_solver
from nar_solver.cli import main
from nar_solver.solve.ga import GAConfig
from nar_solver.solve.selfcheck import REPRODUCE_FRACTION
from nar_solver.data.sources import ObjectsSource
from nar_solver.errors import CheckpointError
from nar_solver.io import atomic_write_json
from nar_solver.run.checkpoint import latent_range, save_model
from nar_solver.model.images import to_ink
from nar_solver.model.losses import kl_divergence, reconstruction_loss
from nar_solver.model.vae import FactorVAE
from nar_solver.run.shipped import shipped_folder
from nar_solver.solve.manifold import load_manifold
from nar_solver.solve.registry import make_solver
from nar_solver.solve.solver import SolverSettings
from nar_solver.run.config import TrainConfig
from nar_solver.world.formats import save_puzzle, write_puzzle_folders
from nar_solver.world.puzzle import generate_puzzle, generate_puzzles, puzzle_rng
from train_helpers import one_thread as single_thread
from figure_helpers import capture_figures, tick_labels

Z_DIM = 4
STEPS = 250
ARCHITECTURE = "broadcast32"


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    with single_thread():
        yield


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory, one_thread):
    return _train_tiny(tmp_path_factory.mktemp("tiny-objects"))


def _train_tiny(run):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    vae = FactorVAE(Z_DIM, architecture=ARCHITECTURE)
    for layer in vae.modules():
        if isinstance(layer, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)):
            layer.reset_parameters()
    with torch.no_grad():
        vae.encoder.fc[-1].bias[Z_DIM:] = -6.0
    source = ObjectsSource(jitter=2.0, shapes=("square", "circle", "k", "b"))
    optimiser = torch.optim.Adam(vae.parameters(), lr=1e-3)
    for _ in range(STEPS):
        x = to_ink(source.draw(rng, 32))
        logits, mu, logvar, _ = vae(x)
        loss = reconstruction_loss(logits, x) + kl_divergence(mu, logvar)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    vae.eval()
    with torch.no_grad():
        means = vae.encode(to_ink(source.draw(rng, 512)))[0]
    config = TrainConfig(data="objects", z_dim=Z_DIM, tc="none", gamma=0.0, steps=STEPS, lr=1e-3,
                         batch_size=32, jitter=2.0, architecture=ARCHITECTURE)
    atomic_write_json(run / "config.json", config.to_json())
    save_model(run, vae, *latent_range(means), step=STEPS)
    return run


@pytest.fixture(scope="module")
def shift1_puzzles():
    return [generate_puzzle(puzzle_rng(424242, i), "shift1", objects=(1, 1), puzzle_id=str(i)) for i in range(32)]


def test_tiny_learned_model_solves_one_object_shifts_far_above_chance(tiny_checkpoint, shift1_puzzles):
    """Pure latent route: position comes from the learned codes alone.

    Chance is 25%. Every measured model past the plateau (module docstring) solved all 32 (one
    seed, at step 200, 31); models still on it 28% to 78%. 80% (26 of 32) thus asks for a model
    that has learned positions, with a margin of five puzzles; a model at chance passes it with
    probability 4e-11.
    """
    manifold = load_manifold(tiny_checkpoint, kind="objects")
    ga = make_solver("ga", SolverSettings(seed=0, manifold="objects"), manifold)
    correct = sum(ga.solve(p).answer == p.query_answer for p in shift1_puzzles)
    assert correct / len(shift1_puzzles) >= 0.8, f"{correct}/{len(shift1_puzzles)} (chance is 25%)"


def test_tiny_model_with_explicit_positions_solves_multi_object_shifts(tiny_checkpoint):
    """objects-xy: positions from perception, so shifts of several objects are exact moves."""
    puzzles = list(generate_puzzles(31, 10, "shift"))
    ga = make_solver("ga", SolverSettings(seed=0), load_manifold(tiny_checkpoint))
    correct = sum(ga.solve(p).answer == p.query_answer for p in puzzles)
    assert correct >= 8, f"{correct}/10"


@pytest.fixture()
def puzzle_folder(tmp_path, shift1_puzzles):
    folder = tmp_path / "puzzle"
    save_puzzle(shift1_puzzles[0], folder)
    return folder


SOLVE_KEYS = {"puzzle", "solver", "manifold", "answer", "scores", "confidence", "examples_solved", "n_examples",
              "seconds", "correct_answer", "correct", "margins", "reproduction", "rule", "generations",
              "stopped_early", "logbook", "seed", "checkpoint", "version", "notes", "abstain", "abstain_reason"}


def test_solve_json_schema_and_reproducibility(tiny_checkpoint, puzzle_folder, shift1_puzzles):
    runner = CliRunner()
    args = ["solve", str(puzzle_folder), "--checkpoint", str(tiny_checkpoint), "--json", "--seed", "7",
            "--population", "12", "--generations", "5"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    assert set(data) == SOLVE_KEYS
    assert 0 <= data["answer"] < 4 and len(data["scores"]) == 4 and 0 < data["confidence"] <= 1
    assert 0 <= data["examples_solved"] <= data["n_examples"] == 6
    puzzle = shift1_puzzles[0]
    assert data["puzzle"] == puzzle.id and data["correct_answer"] == puzzle.query_answer
    assert data["correct"] == (data["answer"] == puzzle.query_answer)
    assert data["seed"] == 7 and data["manifold"] == "objects-xy" and data["solver"] == "ga"
    assert data["checkpoint"] == str(tiny_checkpoint.resolve())
    assert data["version"] == nar_solver.__version__
    assert len(data["margins"]) == 6 and len(data["reproduction"]) == 6
    # examples_solved counts the examples whose right option the rule reproduces, from the margins
    # (right option nearest) and the reproduction ratios
    solved = sum(m > 0 and r <= REPRODUCE_FRACTION for m, r in zip(data["margins"], data["reproduction"]))
    assert data["examples_solved"] == solved
    # the logbook: one row per generation run (plus generation 0), and its last margin is the best's
    assert [row["gen"] for row in data["logbook"]] == list(range(data["generations"] + 1))
    assert data["generations"] <= 5 and isinstance(data["stopped_early"], bool)
    assert data["stopped_early"] == (data["logbook"][-1]["margin"] >= GAConfig().stop_margin)
    # the rule: one entry per slot, in words; a one-object right shift is found and named as such
    assert [r["slot"] for r in data["rule"]] == [0]
    assert data["rule"][0]["text"].startswith("slot 0: ")
    again = json.loads(runner.invoke(main, args).output)
    assert again["scores"] == data["scores"] and again["answer"] == data["answer"]
    assert again["logbook"] == data["logbook"] and again["rule"] == data["rule"]


def test_solve_prints_the_rule_margins_and_search(tiny_checkpoint, puzzle_folder):
    result = CliRunner().invoke(main, ["solve", str(puzzle_folder), "--checkpoint", str(tiny_checkpoint),
                                       "--generations", "3"])
    assert result.exit_code == 0, result.output
    data = json.loads(CliRunner().invoke(main, ["solve", str(puzzle_folder), "--checkpoint",
                                                str(tiny_checkpoint), "--generations", "3", "--json"]).output)
    out = result.output
    assert "rule:\n  slot 0: " in out and data["rule"][0]["text"] in out
    assert "example margins" in out and " ".join(f"{m:.1f}" for m in data["margins"]) in out
    assert f"generations: {data['generations']}" in out
    assert ("stopped early" in out) == data["stopped_early"]
    assert f"examples the rule reproduces: {data['examples_solved']}/6" in out


def test_solve_rich_output_and_figure(tiny_checkpoint, puzzle_folder, tmp_path, shift1_puzzles, monkeypatch):
    drawn = capture_figures(monkeypatch)
    figure = tmp_path / "fig.png"
    result = CliRunner().invoke(main, ["solve", str(puzzle_folder), "--checkpoint", str(tiny_checkpoint),
                                       "--generations", "3", "--figure", str(figure)])
    assert result.exit_code == 0, result.output
    assert "answer:" in result.output and "examples the rule reproduces" in result.output
    assert "seconds" in result.output and f"figure: {figure}" in result.output
    puzzle = shift1_puzzles[0]
    shown = drawn["fig.png"]
    assert shown.path == figure and figure.is_file()
    assert len(shown.panels) == (puzzle.n_examples + 1) * (2 + puzzle.n_options)   # a row per example + the query
    assert {"input", "predicted", "query", "option 0", f"option {puzzle.n_options - 1}"} <= set(shown.texts())
    assert np.array_equal(shown.picture(0), puzzle.examples[0].input)              # the first example's input


@pytest.mark.parametrize("solver", ["latent-arithmetic", "pixel", "options-only", "random"])
def test_solve_with_each_baseline(tiny_checkpoint, puzzle_folder, solver):
    result = CliRunner().invoke(main, ["solve", str(puzzle_folder), "--checkpoint", str(tiny_checkpoint),
                                       "--solver", solver, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["answer"] in range(4)


def test_evaluate_json_out_schema(tiny_checkpoint, tmp_path, monkeypatch):
    puzzles = list(generate_puzzles(99, 3, "shift"))
    write_puzzle_folders(puzzles, tmp_path / "set")
    drawn = capture_figures(monkeypatch)
    out, figure = tmp_path / "eval.json", tmp_path / "families.png"
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path / "set"), "--checkpoint", str(tiny_checkpoint),
                                       "--generations", "2", "--json-out", str(out), "--figure", str(figure)])
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.output and "95% interval" in result.output and "by family" in result.output
    data = json.loads(out.read_text())
    assert {"accuracy", "n", "solver", "per_category", "results", "interval_95", "settings"} <= set(data)
    assert data["n"] == 3 and data["solver"] == "ga" and len(data["results"]) == 3
    assert data["settings"]["checkpoint"] == str(tiny_checkpoint.resolve())
    for row, puzzle in zip(data["results"], puzzles):
        assert set(row) == {"id", "answer", "correct_answer", "correct", "seconds", "scores", "confidence",
                            "examples_solved", "n_examples", "categories", "abstain", "abstain_reason"}
        assert row["id"] == puzzle.id and row["correct_answer"] == puzzle.query_answer
        assert len(row["scores"]) == 4 and row["answer"] == max(range(4), key=row["scores"].__getitem__)
        assert 0.25 <= row["confidence"] <= 1 and 0 <= row["examples_solved"] <= row["n_examples"] == 6
        assert row["categories"]["family"] == "shift"
    # the same puzzle solved alone gives the same row
    alone = json.loads(CliRunner().invoke(main, ["solve", str(tmp_path / "set"), "--index", "0", "--json",
                                                 "--checkpoint", str(tiny_checkpoint), "--generations", "2"]).output)
    first = data["results"][0]
    assert (alone["scores"], alone["confidence"], alone["examples_solved"]) == (
        first["scores"], first["confidence"], first["examples_solved"])
    assert f"figure: {figure}" in result.output and figure.is_file()
    (ax,) = drawn["families.png"].panels
    assert tick_labels(ax, "x") == ["shift", "all"]                                 # one family, then overall
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == pytest.approx([100 * data["accuracy"]] * 2)                  # all three are shift puzzles


def test_evaluate_shipped_settings_record_the_resolved_default_checkpoint(tmp_path):
    write_puzzle_folders(generate_puzzles(97, 2, "shift1"), tmp_path / "set")
    out = tmp_path / "eval.json"
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path / "set"), "--generations", "0",
                                       "--json-out", str(out)])
    assert result.exit_code == 0, result.output
    recorded = json.loads(out.read_text())["settings"]["checkpoint"]
    assert recorded == str(shipped_folder("objects").resolve()) and Path(recorded).is_absolute()


def test_tune_writes_table_figure_and_json(tiny_checkpoint, tmp_path, monkeypatch):
    drawn = capture_figures(monkeypatch)
    write_puzzle_folders(generate_puzzles(98, 2, "shift1"), tmp_path / "set")
    plot, out = tmp_path / "tune.png", tmp_path / "tune.json"
    result = CliRunner().invoke(main, ["tune", str(tmp_path / "set"), "--checkpoint", str(tiny_checkpoint),
                                       "--population", "4,8", "--generations", "0,2", "--figure", str(plot),
                                       "--json-out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Pareto front" in result.output and "recommended default" in result.output
    data = json.loads(out.read_text())
    (ax,) = drawn["tune.png"].panels
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert {"population 4", "population 8", "Pareto front"} <= set(lines) and plot.is_file()
    for pop in (4, 8):  # one line per population through its points (generations 0, 2)
        mine = sorted((p for p in data["points"] if p["population"] == pop), key=lambda p: p["generations"])
        assert list(lines[f"population {pop}"].get_ydata()) == pytest.approx([100 * p["accuracy"] for p in mine])
    assert all(len(p["timings"]) == 3 and p["seconds_per_puzzle"] == sorted(p["timings"])[1]
               for p in data["points"])
    assert data["settings"]["repeats"] == 3 and data["settings"]["checkpoint"] == str(tiny_checkpoint.resolve())


def test_bad_checkpoints_give_one_line_errors(tiny_checkpoint, puzzle_folder, tmp_path):
    runner = CliRunner()
    missing = runner.invoke(main, ["solve", str(puzzle_folder), "--checkpoint", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and missing.output.startswith("error:") and "does not exist" in missing.output
    assert "Traceback" not in missing.output

    # Architecture mismatch: config.json says another z_dim than the weights have.
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    config = json.loads((tiny_checkpoint / "config.json").read_text())
    config["z_dim"] = Z_DIM + 6
    (wrong / "config.json").write_text(json.dumps(config))
    (wrong / "model.safetensors").write_bytes((tiny_checkpoint / "model.safetensors").read_bytes())
    mismatch = runner.invoke(main, ["solve", str(puzzle_folder), "--checkpoint", str(wrong)])
    assert mismatch.exit_code == 2 and mismatch.output.startswith("error:") and "z_dim" in mismatch.output
    with pytest.raises(CheckpointError):
        load_manifold(wrong)

    board_model = runner.invoke(main, ["evaluate", str(puzzle_folder), "--manifold", "board",
                                       "--checkpoint", str(tmp_path / "none")])
    assert board_model.exit_code == 2 and "error:" in board_model.output


def test_bad_puzzle_paths_give_one_line_errors(tmp_path):
    result = CliRunner().invoke(main, ["solve", str(tmp_path / "missing"), "--solver", "random"])
    assert result.exit_code == 2 and result.output.startswith("error:")
    result = CliRunner().invoke(main, ["evaluate", "--problems", str(tmp_path / "p.json")])
    assert result.exit_code == 2 and "--images" in result.output


def test_board_manifold_runs_the_seed_design(tiny_checkpoint, shift1_puzzles):
    """--manifold board: one code per whole board and one perturbation (here with the object model's
    weights, which is enough to exercise the path)."""
    manifold = load_manifold(tiny_checkpoint, kind="board")
    solution = make_solver("ga", SolverSettings(manifold="board"), manifold).solve(shift1_puzzles[1])
    assert solution.details["slots"] == 1 and 0 <= solution.answer < 4
