"""Watching a run while it trains: the loss log grows at every --log-every, TensorBoard events,
a progress bar that fits 80 columns, and a summary that warns about the mean-image plateau."""
from __future__ import annotations

import io
import re
import json
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from rich.console import Console

from nar_solver.cli import main as cli
from nar_solver.errors import NarError
from nar_solver.train import TrainConfig, train
from nar_solver.distributed import DistContext
from nar_solver.train.loop import _ProgressView
from nar_solver.train.report import MEAN_IMAGE_SPREAD, reconstruction_spread, run_reconstruction_spread
from nar_solver.run.folder import RunFolder
from nar_solver.train.step import FactorVAETrainer
from train_helpers import one_thread

SMALL = dict(data="objects", batch_size=8, d_width=64, latent_sample=16, device="cpu")


def small(**changes) -> TrainConfig:
    return TrainConfig(**{**SMALL, **changes}).resolve()


def _lines(path):
    return path.read_text().splitlines() if path.exists() else []


def test_loss_log_grows_at_every_log_window_before_any_checkpoint(tmp_path, monkeypatch):
    run = tmp_path / "run"
    seen = []
    original = FactorVAETrainer.step

    def watching(self, *args):
        seen.append(len(_lines(run / "losses.jsonl")))   # what `tail -f` would show before this step
        return original(self, *args)

    monkeypatch.setattr(FactorVAETrainer, "step", watching)
    with one_thread():
        train(small(steps=8, log_every=2, save_every=100), run, progress=False, figures=False)
    # before step k+1, k steps are done and k // 2 rows are on disk; the only checkpoint is the last step
    assert seen == [k // 2 for k in range(8)]
    rows = [json.loads(line) for line in _lines(run / "losses.jsonl")]
    assert [r["step"] for r in rows] == [2, 4, 6, 8]


def test_a_crash_after_the_checkpoint_leaves_extra_rows_that_a_resume_drops_and_redoes(tmp_path, monkeypatch):
    with one_thread():
        straight = train(small(steps=6, log_every=1, save_every=3), tmp_path / "a", progress=False, figures=False)
    original = FactorVAETrainer.step
    calls = {"n": 0}

    def crashing(self, *args):
        calls["n"] += 1
        if calls["n"] == 6:
            raise RuntimeError("power cut")
        return original(self, *args)

    monkeypatch.setattr(FactorVAETrainer, "step", crashing)
    run = tmp_path / "b"
    with one_thread(), pytest.raises(RuntimeError, match="power cut"):
        train(small(steps=6, log_every=1, save_every=3), run, progress=False, figures=False)
    assert [json.loads(line)["step"] for line in _lines(run / "losses.jsonl")] == [1, 2, 3, 4, 5]
    with open(run / "losses.jsonl", "a") as handle:
        handle.write('{"step": 6, "rec')                 # a row torn mid-append
    assert [r["step"] for r in RunFolder(run).read_losses()] == [1, 2, 3, 4, 5]   # a reader skips it
    monkeypatch.setattr(FactorVAETrainer, "step", original)
    with one_thread():
        train(small(steps=6, log_every=1, save_every=3), run, resume=True, progress=False, figures=False)

    def rows(folder):
        return [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in _lines(folder / "losses.jsonl")]

    assert rows(run) == rows(straight)                   # exactly the rows of an uninterrupted run


def test_tensorboard_events_hold_scalars_reconstructions_and_traversals(tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed "
                                              "(pip install 'nar-solver[tensorboard]')")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    with one_thread():
        train(small(steps=4, log_every=2, save_every=2), run, progress=False, figures=False, tensorboard=True)
    events = list((run / "tensorboard").glob("events.out.tfevents.*"))
    assert len(events) == 1
    acc = EventAccumulator(str(run / "tensorboard"), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    assert {"loss/recon", "loss/kl", "loss/tc", "loss/d_loss"} <= set(acc.Tags()["scalars"])
    logged = [json.loads(line) for line in _lines(run / "losses.jsonl")]
    recon = acc.Scalars("loss/recon")
    assert [e.step for e in recon] == [2, 4]
    assert [e.value for e in recon] == pytest.approx([r["recon"] for r in logged], rel=1e-6)
    assert {"reconstructions", "traversal"} <= set(acc.Tags()["images"])
    assert [e.step for e in acc.Images("traversal")] == [2, 4]


def test_tensorboard_missing_is_one_line_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)   # as if the extra were absent
    result = CliRunner().invoke(cli, ["train", "--data", "objects", "--steps", "2", "--tensorboard",
                                      "--out", str(tmp_path / "run"), "--no-progress"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: --tensorboard needs the tensorboard package, which is not installed: "
        "pip install 'nar-solver[tensorboard]' (or pip install tensorboard)"]
    assert not (tmp_path / "run").exists()
    with pytest.raises(NarError, match="nar-solver\\[tensorboard\\]"):
        train(small(steps=1), tmp_path / "lib", progress=False, tensorboard=True)


def test_progress_bar_keeps_step_and_eta_at_80_columns():
    out = io.StringIO()
    console = Console(file=out, width=80, color_system=None)
    view = _ProgressView(small(steps=8000), DistContext.from_env(), 1200, console)
    with view:
        view.row({"step": 1250, "recon": 85.1, "kl": 12.34, "tc": 0.567, "d_loss": 0.6931, "d_acc": 0.512})
        view.advance(1300)
    line = [l for l in out.getvalue().splitlines() if "train" in l][-1]
    assert len(line) <= 80 and "1300/8000" in line and "recon 85.1" in line
    assert re.search(r"eta (-:--:--|\d+:\d\d:\d\d) ", line)     # unknown until time has passed


def test_reconstruction_spread_tells_the_mean_image_from_a_model():
    rng = np.random.default_rng(0)
    inputs = rng.integers(0, 256, size=(16, 64, 64)).astype(np.uint8)
    assert reconstruction_spread(inputs, inputs) == pytest.approx(1.0)
    mean = np.broadcast_to(inputs.mean(0).astype(np.uint8), inputs.shape)
    assert reconstruction_spread(inputs, mean) == 0.0
    assert run_reconstruction_spread("checkpoints/objects") > MEAN_IMAGE_SPREAD   # the shipped model is past it


def test_summary_warns_when_reconstructions_are_the_mean_image(tmp_path):
    args = ["train", "--preset", "objects", "--steps", "3", "--batch-size", "8", "--latent-sample", "16",
            "--threads", "1", "--device", "cpu", "--no-progress", "--no-figures", "--out", str(tmp_path / "run")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "warning: the reconstructions are still close to the mean image (their spread across images is" in text
    assert "docs/training.md" in text and " 0.00 " not in text


@pytest.mark.parametrize("spread, shown", [(0.0, "under 0.1%"), (0.0004, "under 0.1%"), (0.004, "0.4%"),
                                           (0.0512, "5.1%"), (0.25, "25%")])
def test_the_spread_is_a_share_that_says_something_at_every_size(spread, shown):
    from nar_solver.cli.train import spread_share

    assert spread_share(spread) == shown
