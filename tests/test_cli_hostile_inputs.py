"""Hostile and careless input beyond the first bad-input sweep (issue 14), through the real CLI.

Bounded sizes, links that leave a puzzle folder, special files, hostile JSON, out-of-range seeds,
non-finite weights and latent ranges, broken training state and loss logs, two trainers on one run
folder. Each case: exit code 2 and one ``error:`` line (or click's one ``Error:`` line for a range
it checks itself), no traceback. README.md ("Failure modes") lists each with its test here.
"""
from __future__ import annotations

import json
import math
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import time
import warnings
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from nar_solver.world.formats import save_puzzle, write_fewshot
from nar_solver.world.puzzle import generate_puzzles
from figure_helpers import capture_figures, tick_labels
from test_cli_bad_input import copy, edit_json, fails, invoke, succeeds, usage_error
from train_helpers import train_tiny

Z_DIM = 4
ROOT = Path(__file__).resolve().parents[1]
TRAIN = ("--no-progress", "--no-figures", "--threads", "1")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A tiny trained run (2 steps, a loss row per step), one puzzle folder, the same puzzles in the
    few-shot-nar layout. Tests copy what they break."""
    root = tmp_path_factory.mktemp("hostile")
    run = train_tiny(root / "run", z_dim=Z_DIM, steps=2, batch_size=8, latent_sample=32, log_every=1, save_every=2)
    puzzles = list(generate_puzzles(5, 2, "shift"))
    save_puzzle(puzzles[0], root / "puzzle")
    write_fewshot(puzzles, root / "fewshot" / "problems.json", root / "fewshot" / "images")
    return SimpleNamespace(root=root, run=run, puzzle=root / "puzzle", fewshot=root / "fewshot")


def _edit_weights(run: Path, change=None, metadata: dict | None = None) -> None:
    tensors = load_file(run / "model.safetensors")
    if change is not None:
        change(tensors)
    meta = {"architecture": "factorvae-conv64", "z_dim": str(Z_DIM), "step": "2", **(metadata or {})}
    save_file(tensors, run / "model.safetensors", metadata=meta)


# -- 1. bounded resources --------------------------------------------------------------------------


def test_sizes_the_user_sets_are_bounded_and_the_help_shows_the_range(world, tmp_path):
    image = world.puzzle / "query.png"
    usage_error("traverse", world.run, image, "--steps", "3000", says=("--steps", "1<=x<=101"))
    usage_error("traverse", world.run, image, "--steps", "100000", says=("--steps", "1<=x<=101"))
    fails("traverse", world.run, image, "--dims", "0-99999999", says=("at most 256 dimensions",))
    fails("traverse", world.run, image, "--dims", ",".join(["0"] * 300), says=("at most 256 dimensions",))
    gen = tmp_path / "gen"
    usage_error("generate", gen, "--count", "1000000", says=("--count", "1<=x<=100000"))
    usage_error("generate", gen, "--examples", "1000", says=("--examples", "1<=x<=32"))
    usage_error("generate", gen, "--length", "500", says=("--length", "1<=x<=20"))
    assert not gen.exists()
    usage_error("solve", world.puzzle, "--population", "100000", says=("--population", "3<=x<=4096"))
    usage_error("evaluate", world.puzzle, "--generations", "1000000", says=("--generations", "0<=x<=10000"))
    tune = ("tune", world.puzzle, "--checkpoint", world.run, "--figure", tmp_path / "t.png")
    fails(*tune, "--population", "4,5000", says=("--population values must be at most 4096",))
    usage_error(*tune, "--repeats", "1000", says=("--repeats", "1<=x<=100"))
    for option, value, limit in (("--z-dim", "100000", 256), ("--batch-size", "1000000", 4096),
                                 ("--latent-sample", "10000000", 16384)):
        fails("train", "--data", "objects", "--out", tmp_path / "r", option, value, *TRAIN[:2],
              says=(f"must be at most {limit}, got {value}",))
    assert not (tmp_path / "r").exists()
    assert "1<=x<=100000" in succeeds("generate", "--help").stdout
    assert "1<=x<=101" in succeeds("traverse", "--help").stdout
    assert "at most 256" in " ".join(succeeds("train", "--help").stdout.split())


def test_the_cli_limits_equal_the_library_limits():
    from nar_solver.cli import _choices
    from nar_solver.model.traversal import MAX_DIMS, MAX_STEPS
    from nar_solver.run.config import LIMITS
    from nar_solver.seeding import MAX_SEED
    from nar_solver.solve.ga import MAX_GENERATIONS, MAX_POPULATION

    assert _choices.MAX_SEED == MAX_SEED == LIMITS["seed"]
    assert (_choices.TRAVERSE_MAX_STEPS, _choices.TRAVERSE_MAX_DIMS) == (MAX_STEPS, MAX_DIMS)
    assert (_choices.GA_MAX_POPULATION, _choices.GA_MAX_GENERATIONS) == (MAX_POPULATION, MAX_GENERATIONS)
    assert LIMITS["z_dim"] <= MAX_DIMS  # traverse can always sweep every dimension of a model


def test_traverse_decodes_in_bounded_chunks(world, tmp_path, monkeypatch):
    from nar_solver.model.traversal import DECODE_CHUNK
    from nar_solver.model.vae import FactorVAE

    batches = []
    decode = FactorVAE.decode

    def recording(self, z):
        batches.append(len(z))
        return decode(self, z)

    monkeypatch.setattr(FactorVAE, "decode", recording)
    out = tmp_path / "t.png"
    drawn = capture_figures(monkeypatch)
    succeeds("traverse", world.run, world.puzzle / "query.png", "--steps", "101", "--figure", out)
    assert out.is_file() and len(tick_labels(drawn["t.png"].panels[0], "x")) == 1 + 101   # input + 101 values
    assert sum(batches) >= Z_DIM * 101 and max(batches) <= DECODE_CHUNK  # 404 codes, never all at once


def test_architecture_sizes_in_config_json_are_checked_before_allocating(world, tmp_path):
    for key, value, limit in (("z_dim", 10**9, 256), ("d_width", 10**9, 4096), ("d_hidden_layers", 10**6, 16),
                              ("batch_size", 10**9, 4096)):
        run = copy(world.run, tmp_path / key)
        edit_json(run / "config.json", lambda c: c.update({key: value}))
        fails("plot", run, says=(run / "config.json", f"{key} must be at most {limit}, got {value}"))
        fails("solve", world.puzzle, "--checkpoint", run, "--generations", "1", says=(f"{key} must be at most",))


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header says ``width`` x ``height`` grey, with a token of image data after it:
    the size is known from the first 33 bytes; decoding it would allocate width * height bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 4096))
                     + chunk(b"IEND", b""))
    return path


def test_a_huge_png_is_refused_from_its_header_before_decoding(world, tmp_path, monkeypatch):
    from PIL import ImageFile

    load = ImageFile.ImageFile.load

    def no_decoding(self):
        if self.size != (64, 64):
            raise AssertionError("pixels decoded before the size was checked")
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        big = _png_header_only(tmp_path / "big.png", 12000, 12000)  # 144 Mpixel: PIL's bomb warning
        fails("traverse", world.run, big, says=(big, "image is 12000x12000, expected 64x64"))
        bomb = _png_header_only(tmp_path / "bomb.png", 30000, 30000)  # 900 Mpixel: PIL's bomb error
        fails("traverse", world.run, bomb, says=(bomb, "far larger than 64x64"))
        puzzle = copy(world.puzzle, tmp_path / "p")
        _png_header_only(puzzle / "query_option_2.png", 12000, 12000)
        fails("solve", puzzle, "--solver", "pixel", says=(puzzle / "query_option_2.png", "image is 12000x12000"))
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]


# -- 2. no escape through links; special files ---------------------------------------------------


def _point_query_at(puzzle: Path, name: str) -> None:
    edit_json(puzzle / "puzzle.json", lambda d: d["query"].update(input=name))


def test_links_out_of_the_puzzle_folder_are_refused_without_telling_what_exists(world, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(world.puzzle / "query.png", outside / "outside.png")
    puzzle = copy(world.puzzle, tmp_path / "p")
    (puzzle / "root").symlink_to("/")
    (puzzle / "elsewhere").symlink_to(outside)
    (puzzle / "outside.png").symlink_to(outside / "outside.png")
    json_path = puzzle / "puzzle.json"
    seen = {}
    for name in ("root/etc/passwd", "root/etc/no-such-file", "elsewhere/outside.png", "elsewhere/none.png",
                 "outside.png"):
        _point_query_at(puzzle, name)
        line = fails("solve", puzzle, "--solver", "pixel",
                     says=(json_path, f"query.input: image path {name!r} leads outside the puzzle folder"))
        seen[name] = line.replace(name, "NAME")
    # an existing and a missing file out there read exactly the same
    assert seen["root/etc/passwd"] == seen["root/etc/no-such-file"]
    assert seen["elsewhere/outside.png"] == seen["elsewhere/none.png"] == seen["outside.png"]

    (puzzle / "alias.png").symlink_to("query.png")  # a link that stays inside is an ordinary image
    _point_query_at(puzzle, "alias.png")
    succeeds("solve", puzzle, "--solver", "pixel")


def test_links_out_of_the_fewshot_image_folder_are_refused(world, tmp_path):
    fs = copy(world.fewshot, tmp_path / "fs")
    secret = tmp_path / "secret.png"
    shutil.copy(fs / "images" / "1_query.png", secret)
    (fs / "images" / "1_query.png").unlink()
    (fs / "images" / "1_query.png").symlink_to(secret)
    fails("evaluate", fs, "--solver", "pixel", "--stop-on-unreadable",
          says=(fs / "images" / "1_query.png", "leads outside the image folder"))
    skipped = invoke("evaluate", fs, "--solver", "pixel")  # without --stop-on-unreadable: skipped, named, not scored
    assert skipped.exit_code == 0, skipped.output
    assert "skipped puzzle 1" in skipped.output and "leads outside the image folder" in skipped.output
    (fs / "images" / "1_query.png").unlink()
    (fs / "images" / "1_query.png").symlink_to(tmp_path / "nothing.png")
    fails("evaluate", fs, "--solver", "pixel", "--stop-on-unreadable",
          says=(fs / "images" / "1_query.png", "leads outside the image folder"))


def test_fifos_and_devices_are_refused_with_their_own_message(world, tmp_path):
    puzzle = copy(world.puzzle, tmp_path / "p")
    (puzzle / "query.png").unlink()
    os.mkfifo(puzzle / "query.png")  # opening it would wait for a writer forever
    fails("solve", puzzle, "--solver", "pixel", says=(puzzle / "query.png", "is a FIFO (named pipe), not a regular file"))
    fails("traverse", world.run, "/dev/zero", says=("/dev/zero", "is a character device, not a regular file"))
    fs = copy(world.fewshot, tmp_path / "fs")
    (fs / "problems.json").unlink()
    os.mkfifo(fs / "problems.json")
    fails("evaluate", "--problems", fs / "problems.json", "--images", fs / "images", "--solver", "pixel",
          says=(fs / "problems.json", "is a FIFO"))


# -- 4. one line, never a traceback ------------------------------------------------------------------


def test_deeply_nested_json_and_huge_integers_are_one_line(world, tmp_path):
    fs = copy(world.fewshot, tmp_path / "deep")
    problems = fs / "problems.json"
    problems.write_text("[" * 200_000 + "]" * 200_000)
    fails("evaluate", "--problems", problems, "--images", fs / "images", "--solver", "pixel",
          says=(problems, "malformed JSON (nested too deeply)"))

    fs = copy(world.fewshot, tmp_path / "digits")
    problems = fs / "problems.json"
    edit_json(problems, lambda d: d[1].__setitem__(3, 123456789))
    problems.write_text(problems.read_text().replace("123456789", "9" * 5000))
    fails("evaluate", "--problems", problems, "--images", fs / "images", "--solver", "pixel",
          says=(problems, "malformed JSON", "5000 digits"))

    puzzle = copy(world.puzzle, tmp_path / "p")
    (puzzle / "puzzle.json").write_text('{"examples": ' + "[" * 200_000 + "]" * 200_000 + "}")
    fails("solve", puzzle, "--solver", "pixel", says=(puzzle / "puzzle.json", "nested too deeply"))
    run = copy(world.run, tmp_path / "run")
    (run / "config.json").write_text("[" * 200_000 + "]" * 200_000)
    fails("plot", run, says=(run / "config.json", "not valid JSON"))


def test_seeds_are_bounded_in_one_place(world, tmp_path):
    from nar_solver.errors import NarError
    from nar_solver.seeding import seed_everything

    for command, target in (("generate", tmp_path / "g"), ("solve", world.puzzle), ("evaluate", world.puzzle)):
        usage_error(command, target, "--seed", str(2**64), says=("--seed", "0<=x<=4294967295"))
    usage_error("metrics", world.run, "--seed", str(2**64), says=("--seed", "0<=x<=4294967295"))
    fails("train", "--data", "objects", "--out", tmp_path / "r", "--seed", "-1", *TRAIN,
          says=("seed must be >= 0, got -1",))
    fails("train", "--data", "objects", "--out", tmp_path / "r", "--seed", str(2**32), *TRAIN,
          says=("seed must be at most 4294967295",))
    run = copy(world.run, tmp_path / "run")
    edit_json(run / "config.json", lambda c: c.update(seed=2**64))
    fails("plot", run, says=(run / "config.json", "seed must be at most 4294967295"))
    with pytest.raises(NarError, match="from 0 to 4294967295"):
        seed_everything(2**64)
    draws = []
    for _ in range(2):  # the largest seed seeds python, numpy and torch, and the generator it returns
        rng = seed_everything(2**32 - 1)
        draws.append((random.random(), float(np.random.rand()), float(torch.rand(1)), float(rng.random())))
    assert draws[0] == draws[1] and draws[0][3] == np.random.default_rng(2**32 - 1).random()
    seed_everything(2**32 - 2)
    assert random.random() != draws[0][0]


def test_non_finite_weights_and_bad_metadata_are_refused_at_load(world, tmp_path):
    def poisoned(t):
        t["encoder.fc.3.weight"][0, 0] = float("nan")

    run = copy(world.run, tmp_path / "nan")
    _edit_weights(run, poisoned)
    says = (run / "model.safetensors", "weights hold NaN or infinite values (in encoder.fc.3.weight)")
    fails("metrics", run, "--preset", "fast", "--device", "cpu", says=says)
    fails("solve", world.puzzle, "--checkpoint", run, "--generations", "1", says=says)
    for step in ("abc", "²", "-3", "1.5"):
        run = copy(world.run, tmp_path / f"step{len(list(tmp_path.iterdir()))}")
        _edit_weights(run, metadata={"step": step})
        fails("plot", run, says=(run / "model.safetensors", f"metadata step {step!r} is not a whole number"))


def test_an_inverted_or_non_finite_latent_range_is_refused_at_load(world, tmp_path):
    def inverted(t):
        t["latent_low"][1], t["latent_high"][1] = 2.0, -2.0

    cases = [(inverted, "latent range is inverted (latent_low > latent_high) in dimension(s) 1")]
    for bad in (float("nan"), float("inf")):
        cases.append((lambda t, bad=bad: t["latent_high"].__setitem__(0, bad),
                      "latent range (latent_low/latent_high) holds NaN or infinite values"))
    for i, (change, message) in enumerate(cases):
        run = copy(world.run, tmp_path / f"range{i}")
        _edit_weights(run, change)
        fails("solve", world.puzzle, "--checkpoint", run, "--generations", "1",
              says=(run / "model.safetensors", message))


def test_a_train_state_step_that_is_not_a_whole_number_is_refused(world, tmp_path):
    for step in ("abc", float("nan"), -100, 2.5):
        run = copy(world.run, tmp_path / f"state{len(list(tmp_path.iterdir()))}")
        state = torch.load(run / "train_state.pt", weights_only=True)
        state["step"] = step
        torch.save(state, run / "train_state.pt")
        shown = repr(str(step))
        fails("train", "--resume", run, "--steps", "3", *TRAIN,
              says=(run / "train_state.pt", f"train state step must be a whole number >= 0, got {shown}"))


@pytest.mark.parametrize("row", ["[1, 2]", "7", '{"step": "abc"}', '{"step": 2, "recon": "x"}', "null"])
def test_a_bad_loss_row_is_blamed_on_losses_jsonl_and_its_line(world, tmp_path, row):
    run = copy(world.run, tmp_path / "run")
    first = (run / "losses.jsonl").read_text().splitlines()[0]
    (run / "losses.jsonl").write_text(f"{first}\n{row}\n")
    says = (run / "losses.jsonl", "line 2 is not a loss row")
    line = fails("plot", run, says=says)
    assert "train_state" not in line
    line = fails("train", "--resume", run, "--steps", "3", *TRAIN, says=says)
    assert "train_state" not in line


# -- 5. one writer per run folder --------------------------------------------------------------------


def _lock_holder(lock: Path) -> str:
    try:
        return lock.read_text().strip()
    except FileNotFoundError:
        return ""


def _last_step(run: Path) -> int:
    lines = (run / "losses.jsonl").read_text().splitlines()
    try:
        return json.loads(lines[-1])["step"] if lines else 0
    except ValueError:  # a row being appended right now
        return 0


def test_a_second_trainer_on_a_run_folder_is_refused(world, tmp_path):
    run = copy(world.run, tmp_path / "run")
    lock = run / ".train.lock"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    first = subprocess.Popen([sys.executable, "-m", "nar_solver", "train", "--resume", str(run), "--steps", "100000",
                              *TRAIN], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while _lock_holder(lock) != str(first.pid) or _last_step(run) < 3:  # locked, and training
            assert first.poll() is None, first.stderr.read()
            assert time.monotonic() < deadline, "the first trainer never took the lock and trained"
            time.sleep(0.1)
        fails("train", "--resume", run, "--steps", "100000", *TRAIN, says=(f"{run}: in use by process {first.pid}",))
        fails("train", "--resume", run, "--steps", "5", *TRAIN, says=("in use by process",))
        assert _lock_holder(lock) == str(first.pid)  # the refused trainer left the lock alone
    finally:
        first.send_signal(signal.SIGTERM)  # the first trainer saves and stops
        _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert not lock.exists()  # released by its owner on the way out
    state = torch.load(run / "train_state.pt", weights_only=True)
    assert state["step"] >= 2


def test_a_stale_lock_of_a_dead_process_is_taken_over(world, tmp_path):
    run = copy(world.run, tmp_path / "run")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (run / ".train.lock").write_text(f"{dead.pid}\n")  # its owner died without removing it
    succeeds("train", "--resume", run, "--steps", "3", *TRAIN)
    assert torch.load(run / "train_state.pt", weights_only=True)["step"] == 3
    assert not (run / ".train.lock").exists()


# -- 7. training-state sanity ---------------------------------------------------------------------


def test_resume_deduplicates_a_loss_log_with_every_row_twice(world, tmp_path):
    run = copy(world.run, tmp_path / "run")
    rows = (run / "losses.jsonl").read_text().splitlines()
    assert [json.loads(r)["step"] for r in rows] == [1, 2]
    (run / "losses.jsonl").write_text("".join(f"{r}\n{r}\n" for r in rows))
    succeeds("train", "--resume", run, "--steps", "3", *TRAIN)
    kept = [json.loads(r) for r in (run / "losses.jsonl").read_text().splitlines()]
    assert [r["step"] for r in kept] == [1, 2, 3]
    assert [json.dumps(r) for r in kept[:2]] == rows
    assert all(math.isfinite(r["recon"]) for r in kept)
