"""Crash safety: a training process killed with SIGKILL at a random moment leaves a run that loads
and resumes (every file is written to a temporary and renamed; the state file is the commit point)."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from nar_solver.run.checkpoint import load_model, load_train_state
from nar_solver.train import TrainConfig, train


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_at_a_random_point_then_load_and_resume(tmp_path):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "nar_solver", "train", "--data", "objects", "--steps", "100000",
           "--batch-size", "8", "--save-every", "2", "--log-every", "1", "--latent-sample", "16",
           "--device", "cpu", "--threads", "1", "--no-progress", "--no-figures", "--out", str(run)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "PYTHONHASHSEED": "0"})
    try:
        deadline = time.monotonic() + 120
        while not (run / "train_state.pt").exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "training never saved a checkpoint"
            time.sleep(0.05)
        time.sleep(random.uniform(0.0, 1.5))  # somewhere in a step, a save, or a write
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    state = load_train_state(run)
    saved = state["step"]
    assert saved >= 2 and saved % 2 == 0
    load_model(run)  # the weights on disk are whole (they may be one save newer than the state)
    config = TrainConfig.load(run / "config.json")
    train(config.replace(steps=saved + 2), run, resume=True, progress=False, figures=False)
    assert load_train_state(run)["step"] == saved + 2
    steps = [json.loads(line)["step"] for line in (run / "losses.jsonl").read_text().splitlines()]
    assert steps == list(range(1, saved + 3))  # no gaps, no rows from after the crash point
    assert not list(run.glob(".*.tmp"))        # half-written temporaries were cleaned up
