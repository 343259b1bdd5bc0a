"""bench/gpu_check.py, the prepared GPU check, run tiny on the CPU: every part's logic, the budget's
skipping and the report (the check itself waits for a GPU; issue 22 item 3)."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "gpu_check.py"


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("gpu_check", None)


def test_tiny_cpu_run_exercises_every_part(gpu_check, tmp_path, capsys):
    from nar_solver.model.vae import ARCHITECTURES

    code = gpu_check.main(["--device", "cpu", "--tiny", "--out", str(tmp_path), "--budget-s", "600", "--seeds", "1",
                           "--max-runs", "2", "--ddp-procs", "1"])
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    parts = {p["name"]: p for p in report["parts"]}
    assert code == 0, [(p["name"], p["status"], p["note"]) for p in report["parts"]]
    assert all(p["status"] == "ok" for p in parts.values())
    assert parts["env"]["results"][0]["device"] == "cpu"
    eager = parts["eager"]["results"]
    assert [r["architecture"] for r in eager] == list(ARCHITECTURES)
    assert all(r["finite"] and r["steps_per_s"] > 0 and r["steps_per_s_fixed_batches"] > 0 for r in eager)
    assert {r["mode"] for r in parts["compile"]["results"]} == {"default"}
    runs = parts["repro"]["results"]
    assert [r["run"] for r in runs] == ["vae-s0", "betavae-b4-s0"]
    for r in runs:
        config = json.loads((tmp_path / "runs" / r["run"] / "config.json").read_text())
        assert config["data"] == "dsprites" and config["tc"] == "none" and r["step"] > 0
    assert json.loads((tmp_path / "runs" / "betavae-b4-s0" / "config.json").read_text())["beta"] == 4.0
    one_rank = parts["ddp"]["results"][1]
    assert one_rank["wrapped"] and one_rank["weights_changed"] and one_rank["backend"] == "gloo"
    printed = capsys.readouterr().out
    assert "target 3e5 Factor-VAE steps <= 15 min" in printed and "missed by" in printed

    # a second call resumes the reproduction runs instead of refusing their folders
    code = gpu_check.main(["--device", "cpu", "--tiny", "--out", str(tmp_path), "--budget-s", "600", "--seeds", "1",
                           "--max-runs", "1", "--parts", "repro"])
    assert code == 0
    assert json.loads((tmp_path / "gpu_check.json").read_text())["parts"][0]["results"][0]["run"] == "vae-s0"


def test_spent_budget_skips_every_part_cleanly(gpu_check, tmp_path, capsys):
    code = gpu_check.main(["--device", "cpu", "--tiny", "--out", str(tmp_path), "--budget-s", "0.5"])
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert code == 0
    assert [(p["name"], p["status"]) for p in report["parts"]] == [(n, "skipped") for n in gpu_check.PARTS]
    assert "budget spent" in capsys.readouterr().out


def test_run_rate_leaves_out_start_up_and_flags_non_finite(gpu_check, tmp_path):
    run = tmp_path / "r"
    run.mkdir()
    rows = [{"step": 100, "seconds": 30.0, "loss": 1.0, "recon": 1.0, "kl": 1.0},
            {"step": 200, "seconds": 31.0, "loss": 1.0, "recon": 1.0, "kl": 1.0},
            {"step": 400, "seconds": 33.0, "loss": float("nan"), "recon": 1.0, "kl": 1.0}]
    (run / "losses.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    result = gpu_check._run_rate("r", run, 0)
    assert result["steps_per_s"] == 100.0 and result["minutes_for_target"] == 50.0
    assert result["status"] == "failed"  # a NaN loss
    resumed = gpu_check._run_rate("r", run, 0, after_step=100)  # rows of an earlier session left out
    assert resumed["steps_per_s"] == 100.0 and resumed["step"] == 400
    assert gpu_check._run_rate("r", tmp_path / "missing", 0)["status"] == "no rows"
    assert gpu_check._run_rate("r", tmp_path / "missing", 1)["status"] == "failed"


def test_a_timed_out_worker_is_killed_with_its_children(gpu_check):
    import os
    import time

    code, out, err = gpu_check._run([sys.executable, "-c",
                                   "import subprocess, sys, time; "
                                   "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
                                   "print(p.pid, flush=True); time.sleep(60)"], 3, dict(os.environ))
    assert code < 0 and "timed out" in err
    child = int(out.split()[0])
    for _ in range(50):  # reaped by init once killed; gone from the process table soon after
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        if open(f"/proc/{child}/stat").read().split()[2] == "Z":
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the worker's child outlived the timeout")
    code, out, _ = gpu_check._run([sys.executable, "-c", "print('ok')"], 30, dict(os.environ))
    assert code == 0 and out.strip() == "ok"
