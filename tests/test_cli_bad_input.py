"""Bad input, command by command, through the real CLI (click's test runner).

Every case checks what the user sees: exit code 2 for input the user gave (1 for a run that failed
on good input), one ``error: <file>: <problem>`` line on stderr naming the offending file, and no
traceback; ``--debug`` shows the traceback instead. Images that can be converted (RGBA, palette)
are accepted. README.md ("Failure modes") lists each case with the test that backs it.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from safetensors.torch import load_file, save_file

from nar_solver.cli import main
from nar_solver.errors import PuzzleError
from nar_solver.world.formats import load_grey_png, save_puzzle, write_fewshot, write_puzzle_folders
from nar_solver.world.puzzle import generate_puzzles
from figure_helpers import capture_figures, tick_labels, tile
from train_helpers import train_tiny

Z_DIM = 4


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A tiny trained run (2 steps of the real trainer), one puzzle folder, a set of three, and the
    same three in the few-shot-nar layout. Tests copy what they break."""
    root = tmp_path_factory.mktemp("bad-input")
    run = train_tiny(root / "run", z_dim=Z_DIM, steps=2, batch_size=8, latent_sample=32, log_every=1, save_every=2)
    puzzles = list(generate_puzzles(5, 3, "shift"))
    save_puzzle(puzzles[0], root / "puzzle")
    write_puzzle_folders(puzzles, root / "set")
    write_fewshot(puzzles, root / "fewshot" / "problems.json", root / "fewshot" / "images")
    (root / "empty").mkdir()
    (root / "a_file").write_text("not a folder")
    return SimpleNamespace(root=root, run=run, puzzle=root / "puzzle", set=root / "set", fewshot=root / "fewshot",
                           empty=root / "empty", file=root / "a_file")


# -- helpers ------------------------------------------------------------------------------------


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def no_traceback(result) -> None:
    assert result.exc_info is None or result.exc_info[0] is SystemExit, result.exc_info
    assert "Traceback" not in result.output


def fails(*args, code: int = 2, says: tuple[str, ...] = ()) -> str:
    """Run the CLI, expect a one-line ``error:`` on stderr (the last thing printed) and ``code``;
    return that line. ``says`` are fragments the line must contain (the file, the problem)."""
    result = invoke(*args)
    no_traceback(result)
    assert result.exit_code == code, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
    for fragment in says:
        assert str(fragment) in errors[0], (fragment, errors[0])
    return errors[0]


def usage_error(*args, says: tuple[str, ...] = ()) -> str:
    """click's own option checks: exit 2, usage line, then one ``Error:`` line; no traceback."""
    result = invoke(*args)
    no_traceback(result)
    assert result.exit_code == 2, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: "), result.stderr
    for fragment in says:
        assert str(fragment) in last, (fragment, last)
    return last


def succeeds(*args):
    result = invoke(*args)
    no_traceback(result)
    assert result.exit_code == 0, result.output
    return result


def copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def truncate(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


# -- generate -----------------------------------------------------------------------------------


def test_generate_refuses_unusable_output_folders(world, tmp_path):
    usage_error("generate", world.file, says=("is a file",))
    fails("generate", world.set, says=(world.set, "output folder is not empty"))
    fails("generate", world.file / "out", "-n", "1", says=(world.file, "is a file, not a folder"))
    fails("generate", world.file / "out", "-n", "1", "--format", "fewshot", says=(world.file, "is a file, not a folder"))
    usage_error("generate", tmp_path / "g", "-n", "0", says=("--count", "0 is not in the range 1<=x<=100000"))


# -- train ---------------------------------------------------------------------------------------


TRAIN = ("--steps", "1", "--batch-size", "4", "--latent-sample", "4", "--device", "cpu", "--no-progress",
         "--no-figures")


def test_train_refuses_bad_data_folders(world, tmp_path):
    fails("train", "--data", tmp_path / "nowhere", "--out", tmp_path / "r", *TRAIN,
          says=(tmp_path / "nowhere", "no such folder"))
    fails("train", "--data", world.empty, "--out", tmp_path / "r", *TRAIN, says=(world.empty, "no PNG images found"))
    data = copy(world.puzzle, tmp_path / "data")
    truncate(data / "query.png")
    fails("train", "--data", data, "--out", tmp_path / "r", *TRAIN,
          says=(data / "query.png", "not a readable PNG", "truncated"))
    Image.new("L", (32, 32), 255).save(data / "query.png")
    fails("train", "--data", data, "--out", tmp_path / "r", *TRAIN,
          says=(data / "query.png", "image is 32x32, expected 64x64"))
    assert not (tmp_path / "r" / "config.json").exists()  # nothing was started


def test_train_accepts_rgba_and_palette_images(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    grey = np.full((64, 64), 255, np.uint8)
    grey[20:40, 10:30] = 0
    Image.fromarray(grey).convert("RGBA").save(data / "rgba.png")
    Image.fromarray(grey).convert("P").save(data / "palette.png")
    assert Image.open(data / "palette.png").mode == "P"
    for name in ("rgba.png", "palette.png"):
        assert (load_grey_png(data / name) == grey).all()
    succeeds("train", "--data", data, "--out", tmp_path / "r", *TRAIN, "--tc", "none")
    assert (tmp_path / "r" / "model.safetensors").is_file()


def test_train_refuses_bad_settings_and_run_folders(world, tmp_path):
    fails("train", "--data", "objects", "--out", tmp_path / "r", "--steps", "-5", says=("steps must be >= 0, got -5",))
    fails("train", "--data", "objects", "--out", tmp_path / "r", "--z-dim", "0", says=("z_dim must be >= 1",))
    fails("train", "--data", "objects", says=("give exactly one of --out DIR (new run) or --resume DIR",))
    fails("train", "--resume", tmp_path / "none", says=(tmp_path / "none", "run folder to resume does not exist"))
    fails("train", "--data", "objects", "--out", world.run, *TRAIN, says=(world.run, "already holds a training run"))
    fails("train", "--data", "objects", "--out", world.file / "run", *TRAIN, says=(world.file, "is a file, not a folder"))

    run = copy(world.run, tmp_path / "unknown")
    edit_json(run / "config.json", lambda c: c.update(colour="red"))
    fails("train", "--resume", run, says=(run / "config.json", "unknown config key(s): colour"))

    run = copy(world.run, tmp_path / "garbage")
    (run / "train_state.pt").write_bytes(b"garbage")
    fails("train", "--resume", run, "--steps", "3", says=(run / "train_state.pt", "corrupt or unreadable"))


# -- checkpoints (plot, traverse, metrics, solve share load_model) --------------------------------


def broken_checkpoints(world, tmp_path) -> dict[str, tuple[Path, tuple]]:
    """name -> (run folder, fragments of the expected error)."""
    cases: dict[str, tuple[Path, tuple]] = {}
    cases["missing"] = (tmp_path / "none", (tmp_path / "none", "checkpoint folder does not exist"))
    cases["empty folder"] = (world.empty, (world.empty, "no config.json"))

    run = copy(world.run, tmp_path / "no-weights")
    (run / "model.safetensors").unlink()
    cases["no weights"] = (run, (run, "no model.safetensors"))

    run = copy(world.run, tmp_path / "other-z")
    edit_json(run / "config.json", lambda c: c.update(z_dim=7))
    cases["other z_dim"] = (run, (run / "model.safetensors", f"weights have z_dim {Z_DIM}, config.json says 7"))

    run = copy(world.run, tmp_path / "other-arch")
    save_file(load_file(run / "model.safetensors"), run / "model.safetensors",
              metadata={"architecture": "resnet18", "z_dim": str(Z_DIM)})
    cases["other architecture"] = (run, (run / "model.safetensors", "architecture 'resnet18'"))

    run = copy(world.run, tmp_path / "other-layers")
    tensors = {k: v for k, v in load_file(run / "model.safetensors").items() if not k.startswith("decoder.")}
    save_file(tensors, run / "model.safetensors")
    cases["other layers"] = (run, (run / "model.safetensors", "do not match the factorvae-conv64 architecture"))

    run = copy(world.run, tmp_path / "unknown-key")
    edit_json(run / "config.json", lambda c: c.update(colour="red"))
    cases["unknown config key"] = (run, (run / "config.json", "unknown config key(s): colour"))

    run = copy(world.run, tmp_path / "bad-json")
    (run / "config.json").write_text("{oops")
    cases["config not JSON"] = (run, (run / "config.json", "not valid JSON"))

    run = copy(world.run, tmp_path / "truncated")
    truncate(run / "model.safetensors")
    cases["truncated weights"] = (run, (run / "model.safetensors", "corrupt or unreadable weights"))
    return cases


def test_every_command_that_loads_a_checkpoint_refuses_broken_ones(world, tmp_path):
    image = world.puzzle / "query.png"
    for name, (run, says) in broken_checkpoints(world, tmp_path).items():
        fails("plot", run, says=says)
        fails("traverse", run, image, says=says)
        fails("metrics", run, "--preset", "fast", "--device", "cpu", says=says)
        fails("probe", run, "--out", tmp_path / "probe", says=says)
        fails("solve", world.puzzle, "--checkpoint", run, "--generations", "1", says=says)
        fails("evaluate", world.set, "--checkpoint", run, "--generations", "1", says=says)
        fails("tune", world.set, "--checkpoint", run, "--population", "4", "--generations", "1",
              "--figure", tmp_path / "t.png", says=says)


def test_plot_refuses_a_corrupt_loss_log_and_a_file_in_the_figures_place(world, tmp_path):
    run = copy(world.run, tmp_path / "run")
    (run / "losses.jsonl").write_text('{"step": 1}\n{not json\n')
    fails("plot", run, says=(run / "losses.jsonl", "line 2 is not JSON"))
    (run / "losses.jsonl").unlink()
    shutil.rmtree(run / "figures", ignore_errors=True)
    (run / "figures").write_text("in the way")
    fails("plot", run, "--out", run / "figures", says=(run / "figures", "is a file, not a folder"))


# -- images (traverse reads one PNG with the same reader as every puzzle loader) ------------------


def test_traverse_refuses_unreadable_images(world, tmp_path):
    def image_fails(path, *says):
        fails("traverse", world.run, path, "--figure", tmp_path / "t.png", says=(path, *says))

    image_fails(tmp_path / "none.png", "missing image file")
    (tmp_path / "text.png").write_text("hello")
    image_fails(tmp_path / "text.png", "not a readable PNG")
    shutil.copy(world.puzzle / "query.png", tmp_path / "cut.png")
    image_fails(truncate(tmp_path / "cut.png"), "not a readable PNG", "truncated")
    Image.new("RGB", (64, 64), "white").save(tmp_path / "jpeg.png", format="JPEG")
    image_fails(tmp_path / "jpeg.png", "not a PNG image (found JPEG)")
    Image.new("L", (32, 48), 255).save(tmp_path / "small.png")
    image_fails(tmp_path / "small.png", "image is 32x48, expected 64x64")
    for mode in ("LA", "I;16"):
        path = tmp_path / f"mode-{mode.replace(';', '')}.png"
        Image.new(mode, (64, 64)).save(path)
        image_fails(path, f"unsupported image mode '{mode}'")


def test_traverse_accepts_rgba_and_palette_and_checks_its_options(world, tmp_path, monkeypatch):
    drawn = capture_figures(monkeypatch)
    original = load_grey_png(world.puzzle / "query.png")
    for mode in ("RGBA", "P"):
        path = tmp_path / f"{mode}.png"
        grey = Image.open(world.puzzle / "query.png")
        # an adaptive palette holds every grey of the image: the palette file is the same picture
        (grey.convert("RGBA") if mode == "RGBA" else grey.convert("P", palette=Image.ADAPTIVE, colors=256)).save(path)
        succeeds("traverse", world.run, path, "--figure", tmp_path / f"t-{mode}.png", "--steps", "3")
        figure = drawn[f"t-{mode}.png"]
        assert figure.path.is_file() and len(tick_labels(figure.panels[0])) == Z_DIM
        assert np.array_equal(tile(figure.picture(), 0, 0), original)   # read as the same grey image
    image = world.puzzle / "query.png"
    usage_error("traverse", world.run, image, "--steps", "-3", says=("--steps", "-3 is not in the range 1<=x<=101"))
    fails("traverse", world.run, image, "--from", "nan", says=("--from and --to must be finite",))
    fails("traverse", world.run, image, "--dims", "9", says=(f"the model has dimensions 0..{Z_DIM - 1}",))
    fails("traverse", world.run, image, "--dims", "x", says=("--dims 'x'",))
    fails("traverse", world.run, image, "--mode", "sideways", says=("traversal mode must be one of",))
    fails("traverse", world.run, image, "--figure", world.empty, says=(world.empty, "is a folder"))
    fails("traverse", world.run, image, "--figure", world.file / "t.png", says=(world.file, "is a file, not a folder"))
    fails("traverse", world.run, image, "--figure", tmp_path / "t.xyz", says=(tmp_path / "t.xyz", "Format 'xyz'"))


# -- puzzles (solve, evaluate, tune share the loaders) --------------------------------------------


def test_solve_refuses_missing_empty_and_inconsistent_puzzles(world, tmp_path):
    for command in ("solve", "evaluate", "tune"):
        fails(command, tmp_path / "none", says=(tmp_path / "none", "no such file or folder"))
        fails(command, world.empty, says=(world.empty, "not a puzzle folder"))

    puzzle = copy(world.puzzle, tmp_path / "counts")
    edit_json(puzzle / "puzzle.json", lambda d: d["examples"][1]["options"].pop())
    fails("solve", puzzle, "--solver", "pixel",
          says=(puzzle / "puzzle.json", "example 1 has 3 options but the query has 4"))

    puzzle = copy(world.puzzle, tmp_path / "answer")
    edit_json(puzzle / "puzzle.json", lambda d: d["query"].update(answer=4))
    fails("solve", puzzle, "--solver", "pixel",
          says=(puzzle / "puzzle.json", "query: answer index 4 out of range for 4 options"))
    edit_json(puzzle / "puzzle.json", lambda d: (d["query"].update(answer=0), d["examples"][3].update(answer=-1)))
    fails("solve", puzzle, "--solver", "pixel", says=("examples[3]: answer index -1 out of range",))

    puzzle = copy(world.puzzle, tmp_path / "json")
    (puzzle / "puzzle.json").write_text('{"examples": [1,,]}')
    fails("solve", puzzle, "--solver", "pixel", says=(puzzle / "puzzle.json", "malformed JSON", "line 1"))

    puzzle = copy(world.puzzle, tmp_path / "png")
    (puzzle / "example_2_option_1.png").unlink()
    fails("solve", puzzle, "--solver", "pixel", says=(puzzle / "example_2_option_1.png", "missing image file"))
    truncate(puzzle / "query_option_0.png")
    shutil.copy(world.puzzle / "example_2_option_1.png", puzzle / "example_2_option_1.png")
    fails("solve", puzzle, "--solver", "pixel", says=(puzzle / "query_option_0.png", "not a readable PNG"))

    fails("solve", world.set, "--solver", "pixel", says=(world.set, "holds 3 puzzles; pick one with --index"))
    fails("solve", world.set, "--solver", "pixel", "--index", "7", says=("--index 7 is past the last puzzle (3 found)",))


def test_solve_reads_rgba_and_palette_puzzles_as_their_grey_originals(world, tmp_path):
    original = json.loads(succeeds("solve", world.puzzle, "--solver", "pixel", "--json").stdout)
    for mode in ("RGBA", "P"):
        puzzle = copy(world.puzzle, tmp_path / mode)
        for png in puzzle.glob("*.png"):  # via L: an exact grey palette, not the dithered web palette
            Image.open(png).convert("L").convert(mode).save(png)
        assert Image.open(puzzle / "query.png").mode == mode
        converted = json.loads(succeeds("solve", puzzle, "--solver", "pixel", "--json").stdout)
        assert converted["scores"] == original["scores"] and converted["answer"] == original["answer"]


def test_fewshot_problem_files_are_checked(world, tmp_path):
    def fewshot_fails(change, *says):
        fs = copy(world.fewshot, tmp_path / f"fs{len(list(tmp_path.iterdir()))}")
        problems = fs / "problems.json"
        change(problems)
        return fails("evaluate", "--problems", problems, "--images", fs / "images", "--solver", "pixel", "--stop-on-unreadable",
                     says=(problems, *says))  # without --stop-on-unreadable one bad problem is skipped (test_cli_evaluate_robust)

    fewshot_fails(lambda p: p.write_text('{"problems": []}'), "expected a JSON list of problems")
    fewshot_fails(lambda p: edit_json(p, lambda d: d.__setitem__(1, d[1][:2])),
                  "problem 1: expected [examples, query, query_options, solution, program]")
    fewshot_fails(lambda p: edit_json(p, lambda d: d[0][0].__setitem__(2, d[0][0][2][:2])),
                  "problem 0, example 2: expected [input_board, option_boards, solution_index]")
    fewshot_fails(lambda p: edit_json(p, lambda d: d[2][0][1].__setitem__(1, d[2][0][1][1][:3])),
                  "problem 2: example 1 has 3 options but the query has 4")
    fewshot_fails(lambda p: edit_json(p, lambda d: d[1].__setitem__(3, 4)),
                  "problem 1, query: answer index 4 out of range for 4 options")
    fewshot_fails(lambda p: edit_json(p, lambda d: d[0][0][5].__setitem__(2, 9)),
                  "problem 0, example 5: answer index 9 out of range")
    fewshot_fails(lambda p: p.write_text("[1, 2"), "malformed JSON")
    fs = copy(world.fewshot, tmp_path / "empty-list")
    (fs / "problems.json").write_text("[]")
    fails("evaluate", fs, "--solver", "pixel", says=(fs, "no puzzles found"))

    fs = copy(world.fewshot, tmp_path / "la")
    Image.new("LA", (64, 64)).save(fs / "images" / "1_query.png")
    fails("evaluate", fs, "--solver", "pixel", "--stop-on-unreadable",
          says=(fs / "images" / "1_query.png", "unsupported image mode 'LA'"))
    fails("evaluate", "--problems", fs / "problems.json", says=("--problems and --images go together",))
    fails("evaluate", "--problems", fs / "problems.json", "--images", tmp_path / "no-images", "--solver", "pixel",
          says=(tmp_path / "no-images", "no such image folder"))


def test_ga_settings_are_checked(world, tmp_path):
    for command in ("solve", "evaluate"):
        target = world.puzzle if command == "solve" else world.set
        usage_error(command, target, "--checkpoint", world.run, "--population", "1",
                    says=("--population", "1 is not in the range 3<=x<=4096"))
        usage_error(command, target, "--checkpoint", world.run, "--population", "2",
                    says=("--population", "2 is not in the range 3<=x<=4096"))
        usage_error(command, target, "--checkpoint", world.run, "--generations", "-1",
                    says=("--generations", "-1 is not in the range 0<=x<=10000"))
    tune = ("tune", world.set, "--checkpoint", world.run, "--figure", tmp_path / "t.png")
    fails(*tune, "--population", "1,4", says=("--population values must be at least 3", "got 1"))
    fails(*tune, "--population", "2", says=("--population values must be at least 3",))
    fails(*tune, "--generations", "-2", says=("--generations must list at least one non-negative whole number",))
    fails(*tune, "--population", "a,b", says=("--population must be comma-separated whole numbers",))
    unlabelled = copy(world.set, tmp_path / "unlabelled")
    for puzzle_json in unlabelled.glob("*/puzzle.json"):
        edit_json(puzzle_json, lambda d: d["query"].update(answer=None))
    fails("tune", unlabelled, "--checkpoint", world.run, "--figure", tmp_path / "t.png",
          says=(unlabelled, "no puzzle has a known answer"))
    assert not (tmp_path / "t.png").exists()


# -- output files -------------------------------------------------------------------------------


def test_outputs_are_checked_before_the_work_starts(world, tmp_path):
    blocked = world.file / "out"
    says = (world.file, "is a file, not a folder", blocked)
    fails("solve", world.puzzle, "--solver", "pixel", "--figure", blocked / "f.png", says=says)
    fails("evaluate", world.set, "--solver", "pixel", "--json-out", blocked / "e.json", says=says)
    fails("tune", world.set, "--checkpoint", world.run, "--figure", blocked / "t.png", says=says)
    fails("tune", world.set, "--checkpoint", world.run, "--figure", tmp_path / "t.png", "--json-out", blocked / "t.json",
          says=says)
    fails("metrics", world.run, "--preset", "fast", "--json-out", blocked / "m.json", says=says)
    usage_error("evaluate", world.set, "--solver", "pixel", "--json-out", world.empty, says=("is a directory",))
    assert not (tmp_path / "t.png").exists()  # the sweep never ran


def test_a_folder_without_write_permission_is_one_line(world, tmp_path, monkeypatch):
    """Permission bits do not stop root, so the OS's answer is simulated where the check asks it."""
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if Path(path) == locked
                        else real_access(path, mode, **kw))
    fails("evaluate", world.set, "--solver", "pixel", "--json-out", locked / "e.json",
          says=(locked, "cannot write here (permission denied)"))
    fails("train", "--data", "objects", "--out", locked / "run", *TRAIN, says=(locked, "permission denied"))


def test_os_errors_while_writing_become_one_line(world, tmp_path, monkeypatch):
    """An OSError deep in a write (after every check passed) names the file; a full disk is a failed
    run (exit 1), a refused path is bad input (exit 2)."""
    import nar_solver.io as nio
    import nar_solver.world.formats as formats

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(nio.os, "fsync", no_space)
    out = tmp_path / "e.json"
    fails("evaluate", world.set, "--solver", "pixel", "--json-out", out, code=1,
          says=(out, "cannot write (No space left on device)"))
    assert not out.exists() and not list(tmp_path.glob(".e.json.*"))  # no half-written file left behind
    monkeypatch.undo()

    def denied(image, path):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(formats, "save_grey_png", denied)  # an OSError no writer wrapped: the CLI's net
    fails("generate", tmp_path / "gen", "-n", "1", says=(tmp_path / "gen", "Permission denied"))


def test_debug_shows_the_traceback_instead(world, tmp_path):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    args = [sys.executable, "-m", "nar_solver", "solve", str(tmp_path / "none"), "--solver", "pixel"]
    plain = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert plain.stderr.strip() == f"error: {tmp_path / 'none'}: no such file or folder"
    debug = subprocess.run(args[:3] + ["--debug"] + args[3:], capture_output=True, text=True, env=env, timeout=120)
    assert debug.returncode != 0 and "Traceback (most recent call last)" in debug.stderr
    assert "PuzzleError" in debug.stderr and "no such file or folder" in debug.stderr
    result = invoke("--debug", "solve", tmp_path / "none", "--solver", "pixel")
    assert isinstance(result.exception, PuzzleError)  # propagated, not turned into a line


def test_written_files_get_the_usual_permissions(world, tmp_path):
    """Atomic writes go through mkstemp (mode 0600); the file must end up as the umask allows
    (0644 under the common umask 022), not private to whoever ran the command."""
    import nar_solver.io as nio

    umask = os.umask(0o022)
    os.umask(umask)
    assert nio._UMASK == umask
    out = tmp_path / "e.json"
    succeeds("evaluate", world.set, "--solver", "pixel", "--json-out", out)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
