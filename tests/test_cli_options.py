"""Options that mean one thing on every command (issue 20): --threads bounded by the cores, --device
auto, renamed spellings kept as warned aliases, and train --config."""
from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from nar_solver.cli import main
from nar_solver.cli._options import RenamingCommand
from nar_solver.cores import available_cores

ROOT = Path(__file__).resolve().parents[1]
#: Each computing command with arguments that name files not there: the bad --threads must be found first.
COMPUTING = {"train": ["--out", "{tmp}/r"], "solve": ["{tmp}/p"], "evaluate": ["{tmp}/p"], "tune": ["{tmp}/p"],
             "metrics": ["{tmp}/r"], "plot": ["{tmp}/r"], "traverse": ["{tmp}/r", "{tmp}/i.png"], "probe": ["{tmp}/r"]}


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize("command", sorted(COMPUTING))
def test_threads_beyond_the_cores_is_one_line_on_every_command(command, tmp_path):
    too_many = available_cores() + 1
    args = [a.format(tmp=tmp_path) for a in COMPUTING[command]]
    result = _invoke(command, *args, "--threads", too_many)
    assert result.exit_code == 2
    assert result.output.strip() == (f"error: --threads {too_many} is more than the {available_cores()} CPU "
                                     "core(s) this process may use")
    assert not list(tmp_path.iterdir())  # nothing written, nothing read


@pytest.mark.parametrize("command", sorted(COMPUTING))
def test_every_computing_command_has_threads_1_and_device_auto(command):
    text = " ".join(_invoke(command, "--help").output.split())
    threads = text[text.index("--threads"):]
    assert "[default: 1" in threads[:400]
    device = text[text.index("--device"):]
    assert "[default: auto" in device[:200]


def test_negative_threads_is_refused():
    result = _invoke("solve", "p", "--threads", "-1")
    assert result.exit_code == 2 and "--threads must be 0 (every idle core) or a count of cores" in result.output


def _renaming_command(seen: dict) -> click.Command:
    @click.command(cls=RenamingCommand, renamed={"--plot": ("--figure",), "--fast": ("--preset", "fast"),
                                                 "--strict": ("--strict-model", "--stop-on-unreadable")})
    @click.option("--figure", default=None)
    @click.option("--preset", default="full")
    @click.option("--strict-model", is_flag=True)
    @click.option("--stop-on-unreadable", is_flag=True)
    @click.argument("rest", nargs=-1)
    def command(**options):
        seen.update(options)

    return command


@pytest.mark.parametrize("args, expected, warning", [
    (["--plot", "a.png"], {"figure": "a.png"}, "--plot is deprecated; use --figure"),
    (["--plot=b.png"], {"figure": "b.png"}, "--plot is deprecated; use --figure"),
    (["--fast"], {"preset": "fast"}, "--fast is deprecated; use --preset fast"),
    (["--strict"], {"strict_model": True, "stop_on_unreadable": True},
     "--strict is deprecated; use --strict-model --stop-on-unreadable"),
    (["--", "--plot"], {"figure": None, "rest": ("--plot",)}, None),
])
def test_renamed_spellings_still_work_and_warn(args, expected, warning):
    seen: dict = {}
    result = CliRunner().invoke(_renaming_command(seen), args)
    assert result.exit_code == 0, result.output
    assert {k: seen[k] for k in expected} == expected
    assert (f"warning: {warning}" in result.output) if warning else "warning" not in result.output


def test_old_spellings_are_hidden_from_help():
    for command, old in (("tune", "--plot"), ("traverse", "--out"), ("metrics", "--fast"), ("solve", "--strict ")):
        assert old not in _invoke(command, "--help").output


def test_solve_accepts_the_old_strict_with_a_warning():
    result = CliRunner().invoke(main, ["solve", str(ROOT / "puzzles" / "shift1-a"), "--strict", "--generations", "0",
                                       "--json"])
    assert result.exit_code == 0, result.output
    assert "warning: --strict is deprecated; use --strict-model" in result.output


def test_train_from_a_config_file_with_flags_on_top(tmp_path):
    from nar_solver.run.config import TrainConfig

    written = tmp_path / "hand.json"
    written.write_text(json.dumps({"data": "objects", "z_dim": 4, "batch_size": 8, "d_width": 64, "steps": 2,
                                   "latent_sample": 16, "device": "cpu", "gamma": 3.0}))
    run = tmp_path / "run"
    result = _invoke("train", "--config", written, "--steps", "3", "--no-progress", "--no-figures", "--out", run)
    assert result.exit_code == 0, result.output
    config = TrainConfig.load(run / "config.json")
    assert (config.z_dim, config.gamma, config.steps, config.data) == (4, 3.0, 3, "objects")  # file, flag on top
    again = tmp_path / "again"  # a previous run's config.json trains the same settings
    result = _invoke("train", "--config", run / "config.json", "--seed", "1", "--no-progress", "--no-figures",
                     "--out", again)
    assert result.exit_code == 0, result.output
    copy = TrainConfig.load(again / "config.json")
    assert copy.seed == 1 and {**copy.to_json(), "seed": 0} == {**config.to_json(), "seed": 0}


def test_train_config_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"z_dim": 4, "colour": "blue"}))
    result = _invoke("train", "--config", bad, "--out", tmp_path / "r")
    assert result.exit_code == 2 and result.output.strip() == f"error: {bad}: unknown config key(s): colour"
    result = _invoke("train", "--config", bad, "--preset", "objects", "--out", tmp_path / "r")
    assert result.exit_code == 2 and "give --preset or --config, not both" in result.output
    result = _invoke("train", "--config", tmp_path / "missing.json", "--out", tmp_path / "r")
    assert result.exit_code == 2 and "config file is missing" in result.output
    assert not (tmp_path / "r").exists()
