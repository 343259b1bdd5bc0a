"""The training stage end to end: run folders, checkpoints, resume, data sources, failures, CLI."""
from __future__ import annotations

import json
import os
import pickle
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from nar_solver.cli import main as cli
from nar_solver.device import resolve_device
from nar_solver.errors import CheckpointError, NarError, RunFailure
from nar_solver.run.checkpoint import load_model, load_train_state
from nar_solver.train import TrainConfig, train
from nar_solver.train.step import FactorVAETrainer
from nar_solver.world.formats import save_grey_png
from figure_helpers import capture_figures, tick_labels, tile
from train_helpers import tiny_config



def small(**changes) -> TrainConfig:
    """The tiny config (the CLI test trains the full-size model)."""
    return tiny_config(**{"latent_sample": 32, "log_every": 1, **changes})


def rows_without_time(run):
    return [{k: v for k, v in row.items() if k != "seconds"}
            for row in map(json.loads, (run / "losses.jsonl").read_text().splitlines())]


def test_run_folder_and_checkpoint_round_trip(tmp_path):
    run = train(small(steps=4, save_every=2), tmp_path / "run", progress=False, figures=False)
    assert {p.name for p in run.iterdir()} >= {"config.json", "model.safetensors", "train_state.pt", "losses.jsonl"}
    assert TrainConfig.load(run / "config.json") == small(steps=4, save_every=2)
    state = torch.load(run / "train_state.pt", weights_only=True)  # plain types only
    assert state["step"] == 4 and len(rows_without_time(run)) == 4
    loaded = load_model(run)
    assert not loaded.vae.training and loaded.vae.z_dim == 10 and loaded.step == 4
    for name, value in loaded.vae.state_dict().items():
        assert torch.equal(value, state["trainer"]["vae"][name])
    assert loaded.latent_low.shape == (10,) and (loaded.latent_low <= loaded.latent_high).all()
    assert loaded.config.data == "objects"
    row = rows_without_time(run)[-1]
    assert set(row) == {"step", "loss", "recon", "kl", "tc", "d_loss", "d_acc", "tc_gaussian"}
    assert 0.0 <= row["d_acc"] <= 1.0


def test_resume_continues_exactly(tmp_path):
    straight = train(small(steps=6, save_every=3), tmp_path / "a", progress=False, figures=False)
    half = train(small(steps=3, save_every=3), tmp_path / "b", progress=False, figures=False)
    resumed = train(small(steps=6, save_every=3), half, resume=True, progress=False, figures=False)
    assert rows_without_time(straight) == rows_without_time(resumed)
    a, b = load_file(straight / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    # a resume may extend steps but not change what is computed
    with pytest.raises(NarError, match="cannot change gamma"):
        train(small(steps=8, gamma=3.0), resumed, resume=True, progress=False, figures=False)


def test_resume_mid_window_keeps_log_rows_identical(tmp_path):
    """Saving at a step that is not a multiple of log_every carries the partial window over."""
    straight = train(small(steps=6, log_every=4, save_every=6), tmp_path / "a", progress=False, figures=False)
    part = train(small(steps=3, log_every=4, save_every=6), tmp_path / "b", progress=False, figures=False)
    resumed = train(small(steps=6, log_every=4, save_every=6), part, resume=True, progress=False, figures=False)
    assert rows_without_time(straight) == rows_without_time(resumed)


@pytest.mark.parametrize("data", ["boards", "dsprites", "folder"])
def test_each_data_source_trains(tmp_path, data):
    if data == "folder":
        rng = np.random.default_rng(0)
        for i, image in enumerate(rng.integers(0, 256, (12, 64, 64), dtype=np.uint8)):
            (tmp_path / "set" / f"p{i % 2}").mkdir(parents=True, exist_ok=True)
            save_grey_png(image, tmp_path / "set" / f"p{i % 2}" / f"{i}_query.png")
        data = str(tmp_path / "set")
    run = train(small(data=data, steps=2), tmp_path / "run", progress=False, figures=False)
    rows = rows_without_time(run)
    assert len(rows) == 2 and all(np.isfinite(r["recon"]) for r in rows)


def test_kl_warmup_ramps_the_kl_weight(tmp_path):
    config = small(kl_warmup=4, beta=2.0)
    trainer = FactorVAETrainer(config, torch.device("cpu"))
    assert [trainer.kl_weight(s) for s in range(6)] == [0.5, 1.0, 1.5, 2.0, 2.0, 2.0]
    run = train(small(kl_warmup=4, steps=2), tmp_path / "w", progress=False, figures=False)
    first = rows_without_time(run)[0]
    assert first["loss"] == pytest.approx(first["recon"] + 0.25 * first["kl"] + 10.0 * first["tc"], rel=1e-5)


def test_tc_warmup_ramps_the_tc_weight(tmp_path):
    config = small(tc_warmup=4, gamma=8.0)
    trainer = FactorVAETrainer(config, torch.device("cpu"))
    assert [trainer.tc_weight(s) for s in range(6)] == [2.0, 4.0, 6.0, 8.0, 8.0, 8.0]
    assert trainer.kl_weight(0) == config.beta  # the KL keeps its weight
    run = train(small(tc_warmup=4, gamma=8.0, steps=2), tmp_path / "w", progress=False, figures=False)
    first = rows_without_time(run)[0]
    assert first["loss"] == pytest.approx(first["recon"] + first["kl"] + 2.0 * first["tc"], rel=1e-5)
    with pytest.raises(NarError, match="tc_warmup must be >= 0"):
        small(tc_warmup=-1)


def test_gaussian_tc_run_has_no_discriminator(tmp_path):
    run = train(small(tc="gaussian", batch_size=16, steps=2), tmp_path / "g", progress=False, figures=False)
    row = rows_without_time(run)[-1]
    assert row["d_loss"] is None and row["d_acc"] is None and row["tc"] == pytest.approx(row["tc_gaussian"], rel=1e-5)
    assert load_train_state(run)["trainer"]["disc"] == {}


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    original = FactorVAETrainer.step
    calls = {"n": 0}

    def poisoned(self, *args):
        calls["n"] += 1
        if calls["n"] == 6:  # weights blow up during step 6
            with torch.no_grad():
                next(self.vae.parameters()).fill_(float("nan"))
        return original(self, *args)

    monkeypatch.setattr(FactorVAETrainer, "step", poisoned)
    with pytest.raises(RunFailure, match=r"non-finite .*\(step 4\) kept"):
        train(small(steps=10, save_every=2), tmp_path / "run", progress=False, figures=False)
    assert load_train_state(tmp_path / "run")["step"] == 4
    loaded = load_model(tmp_path / "run")
    assert all(torch.isfinite(p).all() for p in loaded.vae.parameters())
    assert RunFailure.exit_code == 1


def test_sigint_saves_and_returns(tmp_path, monkeypatch):
    original = FactorVAETrainer.step
    calls = {"n": 0}

    def interrupted(self, *args):
        calls["n"] += 1
        if calls["n"] == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, *args)

    monkeypatch.setattr(FactorVAETrainer, "step", interrupted)
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN when the test process runs in the background
    run = train(small(steps=50, save_every=100), tmp_path / "run", progress=False, figures=False)
    assert load_train_state(run)["step"] == 3
    assert signal.getsignal(signal.SIGINT) is before  # the caller's handler is restored


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch EXPLOITED",))


def test_pickled_objects_in_a_run_folder_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = train(small(steps=1), tmp_path / "run", progress=False, figures=False)
    with open(run / "train_state.pt", "wb") as handle:
        pickle.dump({"step": 1, "trainer": _Exploit()}, handle, protocol=2)
    with pytest.raises(CheckpointError, match="refused, not executed"):
        train(small(steps=2), run, resume=True, progress=False, figures=False)
    torch.save({"step": 1, "trainer": _Exploit()}, run / "train_state.pt")
    with pytest.raises(CheckpointError, match="refused"):
        load_train_state(run)
    (run / "model.safetensors").write_bytes(pickle.dumps(_Exploit()))
    with pytest.raises(CheckpointError, match="corrupt"):
        load_model(run)
    assert not (tmp_path / "EXPLOITED").exists()


def test_load_model_refuses_bad_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "missing")
    run = train(small(steps=1), tmp_path / "run", progress=False, figures=False)
    config = json.loads((run / "config.json").read_text())

    (run / "config.json").write_text(json.dumps({**config, "z_dim": 6}))
    with pytest.raises(CheckpointError, match="z_dim 10, config.json says 6"):
        load_model(run)
    (run / "config.json").write_text(json.dumps({**config, "colour": "red"}))
    with pytest.raises(CheckpointError, match="unknown config key"):
        load_model(run)
    (run / "config.json").write_text(json.dumps({**config, "architecture": "resnet"}))
    with pytest.raises(CheckpointError, match="architecture"):
        load_model(run)
    (run / "config.json").write_text(json.dumps(config))
    weights = (run / "model.safetensors").read_bytes()
    (run / "model.safetensors").write_bytes(weights[: len(weights) // 2])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_model(run)
    (run / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="no model.safetensors"):
        load_model(run)
    for err in (CheckpointError("x", run),):
        assert "\n" not in str(err)


def test_new_run_refuses_an_existing_run_folder(tmp_path):
    run = train(small(steps=1), tmp_path / "run", progress=False, figures=False)
    with pytest.raises(NarError, match="already holds a training run"):
        train(small(steps=1), run, progress=False, figures=False)


def test_cuda_is_refused_clearly_without_a_gpu(tmp_path):
    if torch.cuda.is_available():
        assert resolve_device("cuda").type == "cuda"
        return
    with pytest.raises(NarError, match="no CUDA GPU"):
        resolve_device("cuda")
    result = CliRunner().invoke(cli, ["train", "--device", "cuda", "--steps", "1", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "no CUDA GPU" in result.output
    assert resolve_device("auto").type == "cpu"


def _check_run_figures(drawn: dict, z_dim: int, steps: int) -> None:
    """What train and plot draw: six loss panels over the logged steps, inputs over reconstructions,
    one traversal row per latent dimension."""
    from nar_solver.figures import _LOSS_PANELS

    losses = drawn["losses.png"]
    assert [ax.get_title() for ax in losses.panels] == [label for _, label in _LOSS_PANELS]
    recon_curve = losses.panels[0].get_lines()[0]
    assert list(recon_curve.get_xdata()) == list(range(1, steps + 1))   # --log-every 1
    recon = drawn["reconstructions.png"]
    labels = tick_labels(recon.panels[0])
    assert labels[:2] == ["input", "recon"] and len(labels) % 2 == 0
    traversal = drawn["traversal.png"]
    rows = tick_labels(traversal.panels[0])
    assert len(rows) == z_dim and sorted(int(r.split()[0][1:]) for r in rows) == list(range(z_dim))
    assert all("KL" in r for r in rows)                                  # rows by KL, each says it


def test_cli_train_resume_plot_traverse(tmp_path, monkeypatch):
    drawn = capture_figures(monkeypatch)
    runner = CliRunner()
    out = tmp_path / "run"
    args = ["train", "--preset", "objects", "--steps", "3", "--batch-size", "8", "--latent-sample", "16",
            "--log-every", "1", "--device", "cpu", "--no-progress", "--out", str(out)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "3 of 3" in result.output and "recon" in result.output
    _check_run_figures(drawn, z_dim=10, steps=3)
    for name in ("losses.png", "reconstructions.png", "traversal.png"):
        assert drawn[name].path == out / "figures" / name
        (out / "figures" / name).unlink()
    result = runner.invoke(cli, ["train", "--resume", str(out), "--steps", "4", "--no-progress", "--no-figures"])
    assert result.exit_code == 0, result.output
    assert load_train_state(out)["step"] == 4 and TrainConfig.load(out / "config.json").steps == 4
    assert not (out / "figures" / "losses.png").exists()
    monkeypatch.chdir(tmp_path)
    drawn.clear()
    assert runner.invoke(cli, ["plot", str(out)]).exit_code == 0
    _check_run_figures(drawn, z_dim=10, steps=4)
    for name in ("losses.png", "reconstructions.png", "traversal.png"):  # default: runs/plot-<run name>/
        assert drawn[name].path == Path("runs") / f"plot-{out.name}" / name and drawn[name].path.is_file()
        assert not (out / "figures" / name).exists()
    assert runner.invoke(cli, ["plot", str(out), "--out", str(out / "figures")]).exit_code == 0
    for name in ("losses.png", "reconstructions.png", "traversal.png"):
        assert drawn[name].path == out / "figures" / name and drawn[name].path.is_file()
    image = tmp_path / "board.png"
    save_grey_png(np.full((64, 64), 255, dtype=np.uint8), image)
    result = runner.invoke(cli, ["traverse", str(out), str(image), "--from", "-0.5", "--to", "0.5", "--steps", "11",
                                 "--dims", "0-2,5"])
    assert result.exit_code == 0, result.output
    sweep = drawn["traverse_board.png"]
    assert sweep.path == Path("runs") / f"traverse-{out.name}" / "traverse_board.png" and sweep.path.is_file()
    assert sorted(int(r.split()[0][1:]) for r in tick_labels(sweep.panels[0])) == [0, 1, 2, 5]
    assert tick_labels(sweep.panels[0], "x")[0] == "input" and len(tick_labels(sweep.panels[0], "x")) == 12
    assert tile(sweep.picture(), 0, 0).min() == 255                      # the white input board, unchanged
    result = runner.invoke(cli, ["traverse", str(out), str(image), "--dims", "12"])
    assert result.exit_code == 2 and "dimensions 0..9" in result.output
    result = runner.invoke(cli, ["train", "--steps", "-1", "--out", str(tmp_path / "neg")])
    assert result.exit_code == 2 and "steps must be >= 0" in result.output


def test_auto_threads_leaves_busy_cores_alone(monkeypatch):
    from nar_solver import device

    monkeypatch.setattr(device, "available_cores", lambda: 4)
    monkeypatch.setattr(device.os, "getloadavg", lambda: (0.2, 0.0, 0.0))
    assert device.auto_threads() == 4 and device.auto_threads(2) == 2
    monkeypatch.setattr(device.os, "getloadavg", lambda: (2.6, 0.0, 0.0))
    assert device.auto_threads() == 1
    monkeypatch.setattr(device.os, "getloadavg", lambda: (9.0, 0.0, 0.0))
    assert device.auto_threads() == 1
