"""Distributed training under torchrun on CPU (gloo): two ranks stay identical and the run resumes
in one process."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import torch.distributed as dist
import pytest

from nar_solver.run.checkpoint import load_model, load_train_state
from nar_solver.train import TrainConfig, train


@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="needs torch.distributed with gloo")
def test_torchrun_two_cpu_ranks_stay_identical_and_resume_on_one(tmp_path):
    run = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR",
                                                             "MASTER_PORT")}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "nar_solver",
           "train", "--data", "objects", "--steps", "3", "--batch-size", "8", "--save-every", "2", "--log-every", "1",
           "--latent-sample", "16", "--device", "cpu", "--no-progress", "--no-figures", "--out", str(run)]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((run / "ddp.json").read_text())
    assert report["world_size"] == 2 and report["step"] == 3
    assert len(report["fingerprints"]) == 2 and report["identical"]
    state = load_train_state(run)
    assert state["world_size"] == 2 and len(state["generators"]) == 2
    assert not (state["generators"][0] == state["generators"][1]).all()  # each rank its own random stream
    rows = [json.loads(line) for line in (run / "losses.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]

    config = TrainConfig.load(run / "config.json")
    train(config.replace(steps=4), run, resume=True, progress=False, figures=False)
    assert load_train_state(run)["step"] == 4
    load_model(run)
