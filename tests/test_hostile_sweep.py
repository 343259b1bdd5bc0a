"""The hostile sweep of issue 21, one CLI test per case; it grows with each failure found.

Nothing a user owns is ever overwritten or lost (section 1), no traceback (2), the right file is
blamed and nonsense is refused (3). Each case runs through the real CLI (click's test runner, or a
subprocess where the case is about the process) and checks the exit code, the one line the user
sees, and that the user's files are byte for byte what they were. README.md ("Failure modes")
lists each case with its test here (`sweep::`).
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import signal
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from nar_solver.run.lock import lock_path, output_lock
from nar_solver.run.shipped import shipped_models
from nar_solver.world.formats import save_grey_png, save_puzzle, write_fewshot, write_puzzle_folders
from nar_solver.world.puzzle import generate_puzzles
from test_cli_bad_input import copy, edit_json, fails, invoke, succeeds, usage_error
from train_helpers import train_tiny

Z_DIM = 4
TRAIN = ("--no-progress", "--no-figures", "--threads", "1")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A tiny trained run (with train_state.pt), the same run as weights only (the shipped models'
    layout), a puzzle folder, a set of three and the set in the few-shot-nar layout. Tests copy
    what they break."""
    root = tmp_path_factory.mktemp("sweep")
    run = train_tiny(root / "run", z_dim=Z_DIM, steps=2, batch_size=8, latent_sample=32, log_every=1, save_every=2)
    weights_only = copy(run, root / "weights-only")
    (weights_only / "train_state.pt").unlink()
    puzzles = list(generate_puzzles(5, 3, "shift"))
    save_puzzle(puzzles[0], root / "puzzle")
    write_puzzle_folders(puzzles, root / "set")
    write_fewshot(puzzles, root / "fewshot" / "problems.json", root / "fewshot" / "images")
    return SimpleNamespace(root=root, run=run, weights_only=weights_only, puzzle=root / "puzzle", set=root / "set",
                           fewshot=root / "fewshot")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` and its bytes: what 'untouched' is checked against."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- 1. data loss -------------------------------------------------------------------------------------


def test_resume_without_train_state_is_refused_and_suggests_init_from(world, tmp_path):
    ck = copy(world.weights_only, tmp_path / "ck")
    before = snapshot(ck)
    fails("train", "--resume", ck, "--steps", "4", *TRAIN,
          says=(ck, "no train_state.pt", f"--init-from {ck} --out NEW_RUN"))
    assert snapshot(ck) == before  # weights and the loss log are as they were


def test_init_from_fine_tunes_a_weights_only_run_as_a_new_run(world, tmp_path, monkeypatch):
    from nar_solver.train.step import FactorVAETrainer

    ck = copy(world.weights_only, tmp_path / "ck")
    before = snapshot(ck)
    original, first = FactorVAETrainer.step, {}

    def step(self, *args):
        first.setdefault("vae", {k: v.detach().clone() for k, v in self.vae.state_dict().items()})
        return original(self, *args)

    monkeypatch.setattr(FactorVAETrainer, "step", step)
    new = tmp_path / "tuned"
    succeeds("train", "--init-from", ck, "--out", new, "--steps", "1", *TRAIN)
    config = json.loads((new / "config.json").read_text())
    assert config["init_from"] == str(ck.resolve()) and config["z_dim"] == Z_DIM and config["steps"] == 1
    # the first step started from the source's weights, not from a fresh initialisation
    source = load_file(ck / "model.safetensors")
    assert all(torch.equal(source[k], v) for k, v in first["vae"].items())
    assert snapshot(ck) == before
    assert torch.load(new / "train_state.pt", weights_only=True)["step"] == 1
    succeeds("train", "--resume", new, "--steps", "2", *TRAIN)  # the fine-tuned run resumes normally
    assert torch.load(new / "train_state.pt", weights_only=True)["step"] == 2
    fails("train", "--init-from", ck, "--out", tmp_path / "other", "--z-dim", "6", *TRAIN,
          says=(ck, "--init-from: its z_dim differ"))
    fails("train", "--init-from", ck, "--out", ck / "inside", *TRAIN, says=("lies inside the input folder",))
    fails("train", "--init-from", ck, "--resume", new, *TRAIN, says=("--init-from starts a new run",))


def test_an_output_is_never_an_input_or_inside_one(world, tmp_path):
    victim = copy(world.puzzle, tmp_path / "victim")
    ck = copy(world.run, tmp_path / "ck")
    fs = copy(world.fewshot, tmp_path / "fs")
    image = tmp_path / "img.png"
    shutil.copy(world.puzzle / "query.png", image)
    saved = {folder: snapshot(folder) for folder in (victim, ck, fs)}
    saved_image = image.read_bytes()
    same = "is also an input of this command"
    inside = "lies inside the input folder"
    fails("evaluate", victim, "--solver", "pixel", "--json-out", victim / "puzzle.json", says=(victim, inside))
    fails("solve", victim, "--solver", "pixel", "--figure", victim / "query.png", says=(inside,))
    fails("metrics", ck, "--preset", "fast", "--json-out", ck / "config.json", says=(inside,))
    fails("tune", fs, "--checkpoint", ck, "--json-out", fs / "problems.json", says=(inside,))
    fails("traverse", ck, image, "--figure", image, says=(image, same))
    fails("probe", ck, "--out", ck, says=(ck, same))
    fails("plot", ck, "--out", ck / "figures", says=(inside,))
    fails("solve", victim, "--solver", "pixel", "--checkpoint", ck, "--figure", ck / "f.png", says=(inside,))
    link = tmp_path / "link.json"
    link.symlink_to(victim / "puzzle.json")  # a link cannot smuggle an input in
    fails("evaluate", victim, "--solver", "pixel", "--json-out", link, says=(inside,))
    assert {folder: snapshot(folder) for folder in saved} == saved and image.read_bytes() == saved_image


def test_nothing_is_written_into_a_shipped_folder(world, tmp_path):
    shipped = shipped_models()
    before = snapshot(shipped)
    says = ("lies inside the shipped folder",)
    fails("generate", shipped / "new-puzzles", "-n", "1", says=says)
    fails("plot", world.run, "--out", shipped / "objects" / "figs", says=says)
    fails("traverse", world.run, world.puzzle / "query.png", "--figure", shipped / "t.png", says=says)
    fails("evaluate", world.puzzle, "--solver", "pixel", "--json-out", shipped / "e.json", says=says)
    fails("train", "--data", "objects", "--out", shipped / "run", *TRAIN, says=says)
    model = shipped / "objects"  # resuming a shipped model: it has no train_state.pt, so --init-from is named
    fails("train", "--resume", model, "--steps", "9000", *TRAIN, says=(model, f"--init-from {model} --out NEW_RUN"))
    assert snapshot(shipped) == before


def _no_space(fd):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_never_leaves_a_torn_figure(world, tmp_path, monkeypatch):
    import nar_solver.io as nio

    keep = tmp_path / "keep.png"
    succeeds("traverse", world.run, world.puzzle / "query.png", "--figure", keep, "--steps", "3")
    good = keep.read_bytes()
    monkeypatch.setattr(nio.os, "fsync", _no_space)
    fails("traverse", world.run, world.puzzle / "query.png", "--figure", keep, "--steps", "3", code=1,
          says=(keep, "No space left on device"))
    assert keep.read_bytes() == good  # the good figure is still there, whole
    figure = tmp_path / "s.png"
    fails("solve", world.puzzle, "--solver", "pixel", "--figure", figure, code=1, says=(figure, "No space left"))
    fails("plot", world.run, "--out", tmp_path / "plots", code=1, says=("No space left on device",))
    assert not figure.exists() and not list((tmp_path / "plots").glob("*"))  # no 0-byte PNGs
    assert not list(tmp_path.rglob(".*.tmp"))


class _FullDisk:
    """A file handle on a full disk: every write fails with ENOSPC."""

    def __init__(self, handle):
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_in_generate_names_the_file(tmp_path, monkeypatch):
    import nar_solver.io as nio

    real = nio.os.fdopen
    monkeypatch.setattr(nio.os, "fdopen", lambda fd, *args, **kwargs: _FullDisk(real(fd, *args, **kwargs)))
    line = fails("generate", tmp_path / "gen", "-n", "1", code=1, says=("No space left on device",))
    assert str(tmp_path / "gen") in line and ".png" in line
    assert not list((tmp_path / "gen").rglob("*.png")) and not list((tmp_path / "gen").rglob(".*.tmp"))


def test_metrics_checks_its_default_output_folder_before_measuring(world, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").write_text("a file where the default output folder goes")
    fails("metrics", world.run, "--preset", "fast", says=("runs: is a file, not a folder",))


def test_metrics_defaults_to_the_standard_preset(world):
    from nar_solver.cli.metrics import command

    assert "Default: standard" in command.get_help(__import__("click").Context(command))


def test_a_second_generate_into_the_same_folder_is_refused(tmp_path):
    out = tmp_path / "gen"
    with output_lock(out, folder=True):  # another generate is writing here
        fails("generate", out, "-n", "1", "--seed", "2", says=(out, "in use by process"))
    assert not out.exists()  # the refused run wrote nothing; the holder's lock left with it
    succeeds("generate", out, "-n", "1")
    assert not lock_path(out, folder=True).exists()


def test_a_second_evaluate_or_tune_on_the_same_json_out_is_refused(world, tmp_path):
    out = tmp_path / "e.json"
    with output_lock(out):  # another evaluate --resume is writing this report
        fails("evaluate", world.set, "--solver", "pixel", "--json-out", out, "--resume", says=(out, "in use by process"))
        fails("evaluate", world.set, "--solver", "pixel", "--json-out", out, says=(out, "in use by process"))
        fails("tune", world.set, "--checkpoint", world.run, "--json-out", out, "--figure", tmp_path / "t.png",
              says=(out, "in use by process"))
    assert not out.exists()
    succeeds("evaluate", world.set, "--solver", "pixel", "--json-out", out)
    assert json.loads(out.read_text())["n"] == 3 and not lock_path(out, folder=False).exists()


# -- 2. tracebacks --------------------------------------------------------------------------------------


def test_a_nul_byte_in_an_image_path_is_one_line(world, tmp_path):
    puzzle = copy(world.puzzle, tmp_path / "p")
    edit_json(puzzle / "puzzle.json", lambda d: d["query"].update(input="query\x00.png"))
    fails("solve", puzzle, "--solver", "pixel", says=(puzzle / "puzzle.json", "NUL byte"))


def test_plot_on_a_binary_loss_log_blames_it(world, tmp_path):
    run = copy(world.run, tmp_path / "run")
    (run / "losses.jsonl").write_bytes(os.urandom(4000) + b"\xff\xfe")
    line = fails("plot", run, "--out", tmp_path / "figs", says=(run / "losses.jsonl", "not a text loss log"))
    assert "train_state" not in line
    line = fails("train", "--resume", run, "--steps", "3", *TRAIN, says=(run / "losses.jsonl", "not a text loss log"))
    assert "train_state" not in line


def test_tune_refuses_a_nan_tolerance(world, tmp_path):
    usage_error("tune", world.set, "--checkpoint", world.run, "--tolerance", "nan", "--json-out", tmp_path / "t.json",
                says=("--tolerance", "nan"))


# -- 3. wrong blame, wrong answers, accepted nonsense ----------------------------------------------------


def test_too_many_threads_is_blamed_on_threads(world):
    line = fails("solve", world.puzzle, "--threads", "100000", says=("--threads 100000 is more than the",))
    assert "safetensors" not in line


def test_an_image_linking_to_itself_is_a_link_loop(world, tmp_path):
    puzzle = copy(world.puzzle, tmp_path / "p")
    (puzzle / "query.png").unlink()
    (puzzle / "query.png").symlink_to("query.png")
    line = fails("solve", puzzle, "--solver", "pixel", says=(puzzle / "query.png", "link loop"))
    assert "outside" not in line


def test_config_json_that_is_a_fifo_or_a_device_is_named(world, tmp_path):
    fifo_run = copy(world.run, tmp_path / "fifo")
    (fifo_run / "config.json").unlink()
    os.mkfifo(fifo_run / "config.json")
    fails("plot", fifo_run, "--out", tmp_path / "a", says=(fifo_run / "config.json", "is a FIFO (named pipe)"))
    fails("train", "--resume", fifo_run, *TRAIN, says=(fifo_run / "config.json", "is a FIFO (named pipe)"))
    device_run = copy(world.run, tmp_path / "dev")
    (device_run / "config.json").unlink()
    (device_run / "config.json").symlink_to("/dev/urandom")
    fails("solve", world.puzzle, "--checkpoint", device_run, says=(device_run / "config.json", "is a device"))


def test_solve_index_reads_only_the_chosen_puzzle(world, tmp_path):
    puzzles = copy(world.set, tmp_path / "set")
    second = sorted(p for p in puzzles.iterdir() if p.is_dir())[1]
    (second / "query.png").write_bytes(b"not a png")
    result = succeeds("solve", puzzles, "--index", "2", "--solver", "pixel", "--json")
    assert json.loads(result.stdout)["answer"] in range(4)
    fails("solve", puzzles, "--index", "1", "--solver", "pixel", says=(second / "query.png", "not a readable PNG"))


@pytest.mark.parametrize("kind", ["black", "inverted"])
def test_an_unreadable_query_is_answered_at_chance(world, tmp_path, kind):
    puzzle = copy(world.puzzle, tmp_path / kind)
    query = np.array(Image.open(puzzle / "query.png").convert("L"))
    save_grey_png(np.zeros_like(query) if kind == "black" else 255 - query, puzzle / "query.png")
    data = json.loads(succeeds("solve", puzzle, "--json").stdout)
    assert data["abstain"] is True and data["confidence"] == pytest.approx(0.25)
    assert "the query input is" in data["abstain_reason"] and "ink" in data["abstain_reason"]


def test_colour_and_animated_pngs_are_refused(world, tmp_path):
    puzzle = copy(world.puzzle, tmp_path / "colour")
    grey = np.array(Image.open(puzzle / "query.png").convert("L"))
    rgb = np.repeat(grey[..., None], 3, axis=2)
    rgb[..., 0] = 255  # red ink: not a grey image
    Image.fromarray(rgb, "RGB").save(puzzle / "query.png")
    fails("solve", puzzle, "--solver", "pixel", says=(puzzle / "query.png", "colour image"))
    animated = copy(world.puzzle, tmp_path / "animated")
    frames = [Image.fromarray(grey), Image.fromarray(255 - grey)]
    frames[0].save(animated / "query.png", save_all=True, append_images=frames[1:])
    fails("solve", animated, "--solver", "pixel", says=(animated / "query.png", "animated PNG (2 frames)"))
    fails("traverse", world.run, animated / "query.png", "--figure", tmp_path / "t.png", says=("animated PNG",))


def test_integer_weights_are_refused(world, tmp_path):
    run = copy(world.run, tmp_path / "run")
    tensors = load_file(run / "model.safetensors")
    tensors["encoder.fc.3.weight"] = (tensors["encoder.fc.3.weight"] * 100).to(torch.int64)
    save_file(tensors, run / "model.safetensors", metadata={"architecture": "factorvae-conv64", "z_dim": str(Z_DIM),
                                                             "step": "2"})
    fails("solve", world.puzzle, "--checkpoint", run, says=(run / "model.safetensors", "int64 values in encoder.fc.3"))


@pytest.mark.parametrize("config, says", [
    ({"data": "mars"}, "data must be one of boards, objects, dsprites or the absolute path of a puzzle folder"),
    ({}, "config.json lacks data, z_dim, tc, steps"),
])
def test_config_json_that_does_not_say_what_the_model_is_is_refused(world, tmp_path, config, says):
    run = copy(world.run, tmp_path / "run")
    if config:
        edit_json(run / "config.json", lambda d: d.update(config))
    else:
        (run / "config.json").write_text("{}")
    fails("solve", world.puzzle, "--checkpoint", run, says=(run / "config.json", says))
    fails("train", "--resume", run, *TRAIN, says=(run / "config.json", says))


@pytest.mark.parametrize("change, says", [
    ({"step": 10**12}, "train state step 1000000000000 is past the run's 2 planned steps"),
    ({"format": 99}, "train state of format 99; this version reads format 1"),
])
def test_an_impossible_train_state_is_refused(world, tmp_path, change, says):
    run = copy(world.run, tmp_path / "run")
    state = torch.load(run / "train_state.pt", weights_only=True)
    state.update(change)
    torch.save(state, run / "train_state.pt")
    before = snapshot(run)
    fails("train", "--resume", run, "--steps", "3", *TRAIN, says=(run / "train_state.pt", says))
    assert snapshot(run) == before


def test_a_lower_steps_on_resume_is_refused(world, tmp_path):
    run = copy(world.run, tmp_path / "run")
    before = snapshot(run)
    fails("train", "--resume", run, "--steps", "1", *TRAIN,
          says=(run, "--steps 1 is below the 2 steps this run has already trained"))
    assert snapshot(run) == before  # config.json still says 2 steps


@pytest.mark.parametrize("key, value", [("gamma", 99.0), ("z_dim", 6), ("data", "boards")])
def test_a_config_json_edited_since_the_state_was_saved_is_refused(world, tmp_path, key, value):
    run = copy(world.run, tmp_path / "run")
    edit_json(run / "config.json", lambda d: d.update({key: value}))
    fails("train", "--resume", run, "--steps", "3", *TRAIN,
          says=(run / "config.json", f"config.json differs from the saved training state in {key}"))


def test_traverse_refuses_huge_values_and_backwards_ranges(world, tmp_path):
    image = world.puzzle / "query.png"
    out = tmp_path / "t.png"
    fails("traverse", world.run, image, "--from", "-1e308", "--to", "1e308", "--figure", out,
          says=("--from and --to must lie within -1000..1000",))
    fails("traverse", world.run, image, "--dims", "3-1", "--figure", out, says=("the range 3-1 runs backwards; write 1-3",))
    assert not out.exists()


def test_an_invalid_cuda_device_is_called_invalid(world):
    fails("solve", world.puzzle, "--device", "cuda:abc", says=("--device 'cuda:abc': invalid device",))


# -- signals -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_train_saves_and_exits_with_the_signal_code(world, tmp_path, monkeypatch, signum):
    from nar_solver.train.step import FactorVAETrainer

    original, calls = FactorVAETrainer.step, {"n": 0}

    def interrupted(self, *args):
        calls["n"] += 1
        if calls["n"] == 2:
            os.kill(os.getpid(), signum)
        return original(self, *args)

    monkeypatch.setattr(FactorVAETrainer, "step", interrupted)
    run = copy(world.run, tmp_path / "run")
    before = signal.getsignal(signum)
    result = invoke("train", "--resume", run, "--steps", "50", *TRAIN)
    assert result.exit_code == 128 + signum, result.output
    assert torch.load(run / "train_state.pt", weights_only=True)["step"] == 4  # saved where it stopped
    assert signal.getsignal(signum) is before


def test_probe_interrupted_removes_its_partial_figures_and_exits_130(world, tmp_path, monkeypatch):
    from nar_solver.probe import figures

    original = figures.reconstruction_figure

    def interrupted(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # probe.json and probe.png are written by now
        return original(*args, **kwargs)

    monkeypatch.setattr(figures, "reconstruction_figure", interrupted)
    out = tmp_path / "probe"
    result = invoke("probe", world.run, "--out", out, "--samples", "2", "--sweep", "2")
    assert result.exit_code == 130, result.output
    assert "interrupted by SIGINT" in result.stderr and "Aborted" not in result.output
    assert not out.exists() or not list(out.iterdir())  # no half set of figures


def test_metrics_interrupted_exits_130_without_a_traceback(world, tmp_path, monkeypatch):
    from nar_solver.metrics import runner

    def interrupted(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)
        raise AssertionError("the signal should have stopped the run")

    monkeypatch.setattr(runner, "sap", interrupted)
    out = tmp_path / "m.json"
    result = invoke("metrics", world.run, "--preset", "fast", "--json-out", out)
    assert result.exit_code == 130, result.output
    assert "interrupted by SIGINT" in result.stderr and not out.exists()
