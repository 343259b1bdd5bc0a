"""The prepared GPU check (issue 22, item 3): the CUDA path run end to end in under 8 minutes.

No GPU has been lent to the sessions that wrote this script: it has run only on the CPU with
``--device cpu --tiny`` (tests/test_gpu_check.py). On a machine with a GPU, from the repository root:

    python bench/gpu_check.py --out gpu_check_out --runs-dir runs/gpu_check --budget-s 450

(on a lent device machine, whose python3 holds PyTorch, click, rich and safetensors, which is all
training imports: ``PYTHONUNBUFFERED=1 python3 bench/gpu_check.py --out "$OUT" --runs-dir
runs/gpu_check`` with a 540 s limit)

prints a summary table and writes ``gpu_check_out/gpu_check.json`` with each reproduction run's
config and losses under ``gpu_check_out/repro/`` (the checkpoints, ~60 MB a run with the
discriminator's optimiser state, stay in ``--runs-dir``, where the next call resumes them). The parts,
each given a share of ``--budget-s`` (time a part leaves unused passes to the next; a part whose
time is gone is skipped with its reason, never half-reported):

1. ``env``: the device, torch and CUDA versions, the CPU cost of a dSprites batch (the renderer is
   numpy on the CPU: 4.7 to 7.7 CPU ms per 64 images on this project's CPU machine, an Intel Xeon
   at load 8-10, i.e. at most 65 to 105 steps/s per process from the data alone), and what the
   project's own device code decided:
   the TF32 and cuDNN flags :func:`nar_solver.device.configure_backend` set, the autocast dtype of
   :func:`nar_solver.train.step.resolve_precision`, and the dtype the decoder's logits really have
   under the trainer's autocast.
2. ``eager``: every architecture (:data:`nar_solver.model.vae.ARCHITECTURES`) trains a few hundred
   dSprites Factor-VAE steps (batch 64, bf16 autocast, TF32) in :class:`FactorVAETrainer`; steps/s
   with the data drawn each step as training draws it, and steps/s on two fixed batches (the model's
   own speed: the gap is the CPU renderer's cost), and whether the losses stayed finite.
3. ``compile``: the same with ``torch.compile`` (``TrainConfig.compile``, inductor) and with
   ``mode="reduce-overhead"`` (CUDA graphs); the compile time is reported apart from steps/s.
4. ``repro``: the dSprites reproduction runs of docs/training.md (VAE, beta-VAE beta 4, Factor-VAE
   gamma 10 and 40; ``--seeds`` each) started together, one process each, for 3e5 steps through
   :func:`nar_solver.train.train`; after their share of the budget each gets SIGTERM, which saves a
   resumable checkpoint. Reported: steps/s per run at that concurrency and the minutes 3e5 steps
   would take. A run folder that already exists is resumed, so repeated calls continue the runs.
5. ``ddp``: ``torchrun --standalone`` training on every GPU (NCCL; gloo on the CPU) through the
   project's CLI, with ``ddp.json``'s weight fingerprints checked when there are several ranks, and,
   because one GPU gives one rank (the project only wraps DistributedDataParallel from two), a
   one-rank process group (NCCL on CUDA) driving the trainer's DDP wrapper for a few steps.

Target (issue 22): 3e5 Factor-VAE steps in <= 15 minutes on one H100, i.e. >= 333 steps/s for one run.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_STEPS = 300_000
TARGET_MINUTES = 15.0
#: Each part's share of the budget, in order; unused time passes on.
SHARES = {"env": 0.05, "eager": 0.10, "compile": 0.30, "repro": 0.40, "ddp": 0.15}
#: The reproduction runs: name -> TrainConfig overrides (docs/training.md, issue 22).
REPRO_RUNS = {
    "vae": dict(tc="none", gamma=0.0),
    "betavae-b4": dict(tc="none", gamma=0.0, beta=4.0),
    "factorvae-g10": dict(tc="discriminator", gamma=10.0),
    "factorvae-g40": dict(tc="discriminator", gamma=40.0),
}


@dataclass
class Sizes:
    """Step counts and net sizes; :meth:`tiny` makes every part run in seconds on a CPU."""

    batch: int = 64
    warmup_steps: int = 30
    timed_steps: int = 300
    compile_warmup_steps: int = 20
    d_width: int = 1000
    d_hidden_layers: int = 5
    repro_steps: int = TARGET_STEPS
    repro_save_every: int = 10_000
    ddp_steps: int = 200
    latent_sample: int = 2048

    @classmethod
    def tiny(cls) -> "Sizes":
        return cls(batch=8, warmup_steps=1, timed_steps=3, compile_warmup_steps=1, d_width=32, d_hidden_layers=1,
                   repro_steps=20, repro_save_every=10, ddp_steps=2, latent_sample=16)


@dataclass
class Part:
    name: str
    status: str = "not run"  # ok | failed | skipped | not run
    seconds: float = 0.0
    note: str = ""
    results: list = field(default_factory=list)


# ------------------------------------------------------------------------------------------------
# Workers (each in its own process, so a crash or a timeout costs one part, not the check)


def _config(args, sizes: Sizes, **overrides):
    from nar_solver.run.config import TrainConfig

    values = dict(data="dsprites", device=args.device, batch_size=sizes.batch, d_width=sizes.d_width,
                  d_hidden_layers=sizes.d_hidden_layers, latent_sample=sizes.latent_sample, threads=1,
                  tc="discriminator", gamma=10.0)
    values.update(overrides)
    return TrainConfig(**values).resolve()


def worker_env(args, sizes: Sizes) -> dict:
    import torch

    from nar_solver.device import configure_backend, resolve_device
    from nar_solver.train.step import FactorVAETrainer, resolve_precision

    device = resolve_device(args.device)
    configure_backend(device, 1)
    trainer = FactorVAETrainer(_config(args, sizes), device)
    x = torch.zeros(2, 1, 64, 64, device=device)
    with trainer.autocast():
        logits = trainer.vae(trainer.prepare(x))[0]
    info = {"device": str(device), "torch": torch.__version__, "cuda": torch.version.cuda,
            **_renderer_cost(),
            "amp_dtype": str(resolve_precision("auto", device)), "logits_dtype_under_autocast": str(logits.dtype),
            "tf32_matmul": torch.backends.cuda.matmul.allow_tf32, "tf32_cudnn": torch.backends.cudnn.allow_tf32,
            "cudnn_benchmark": torch.backends.cudnn.benchmark, "cpu_threads": torch.get_num_threads()}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(gpu=props.name, gpu_count=torch.cuda.device_count(), memory_gib=round(props.total_memory / 2**30, 1),
                    bf16_supported=torch.cuda.is_bf16_supported())
    return info


def _renderer_cost(batch: int = 64) -> dict:
    """CPU ms to draw one dSprites batch of the paper's 64 (numpy, one thread), and the steps/s that
    alone allows a run (two batches a step): the training data is rendered on the CPU, whatever the
    device."""
    import numpy as np

    from nar_solver.data.sources import DSpritesSource

    source, rng = DSpritesSource(), np.random.default_rng(0)
    source.draw(rng, batch)
    t0, n = time.process_time(), 20
    for _ in range(n):
        source.draw(rng, batch)
    ms = (time.process_time() - t0) / n * 1e3
    return {f"dsprites_cpu_ms_per_{batch}": round(ms, 2), "renderer_bound_steps_per_s": round(1e3 / (2 * ms), 1)}


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def worker_speed(args, sizes: Sizes) -> None:
    """One JSON line per (architecture, mode): steps/s with fresh data and on fixed batches."""
    import torch

    from nar_solver.data import make_source
    from nar_solver.data.stream import BatchStream
    from nar_solver.device import configure_backend, resolve_device
    from nar_solver.model.images import to_ink
    from nar_solver.train.step import FactorVAETrainer

    device = resolve_device(args.device)
    configure_backend(device, 1)
    for arch in args.archs.split(","):
        row = {"architecture": arch, "mode": args.mode}
        try:
            config = _config(args, sizes, architecture=arch, compile=args.mode == "default" and args.backend == "inductor")
            trainer = FactorVAETrainer(config, device)
            if args.mode == "reduce-overhead" or (args.mode == "default" and args.backend != "inductor"):
                kwargs = {"mode": args.mode} if args.mode != "default" else {"backend": args.backend}
                trainer.vae_train = torch.compile(trainer.vae, **kwargs)
                trainer.disc_train = torch.compile(trainer.disc, **kwargs)
            stream = BatchStream(make_source(config), 0, 0, 2, device)

            graphs = args.mode == "reduce-overhead"

            def run_step(x1, x2, step):
                if graphs:  # a new iteration: CUDA graph outputs of the last one may be overwritten
                    torch.compiler.cudagraph_mark_step_begin()
                return trainer.step(x1, x2, step)

            def batches(step):
                return (trainer.prepare(to_ink(stream.batch(step, 0, sizes.batch), device)),
                        trainer.prepare(to_ink(stream.batch(step, 1, sizes.batch), device)))

            warm = sizes.compile_warmup_steps if args.mode != "eager" else sizes.warmup_steps
            t0 = time.perf_counter()
            for step in range(warm):
                stats = run_step(*batches(step), step)
            _sync(device)
            row["warmup_s"] = round(time.perf_counter() - t0, 2)
            for label, fresh in (("steps_per_s", True), ("steps_per_s_fixed_batches", False)):
                fixed = batches(0)
                _sync(device)
                t0, done = time.perf_counter(), 0
                for step in range(warm, warm + sizes.timed_steps):
                    stats = run_step(*(batches(step) if fresh else fixed), step)
                    done += 1
                    if time.time() > args.deadline:
                        break
                _sync(device)
                row[label] = round(done / (time.perf_counter() - t0), 1)
                row[label.replace("steps_per_s", "steps")] = done
            values = stats.tolist()
            row["finite"] = all(math.isfinite(v) for v in values)
            row["last_recon"] = round(values[1], 2)
            row["status"] = "ok" if row["finite"] else "failed"
        except Exception as err:  # one architecture's failure is a result, not the end of the check
            row.update(status="failed", error=f"{err.__class__.__name__}: {str(err).splitlines()[0][:300]}")
        print(json.dumps(row), flush=True)
        if time.time() > args.deadline:
            break


def worker_train(args, sizes: Sizes) -> None:
    """One reproduction run in ``args.run``: new, or resumed when the folder has a checkpoint."""
    from nar_solver.train import train

    run = Path(args.run)
    overrides = json.loads(args.overrides)
    if (run / "config.json").is_file():
        train({"steps": sizes.repro_steps, "device": args.device}, run, resume=True, progress=False, figures=False)
    else:
        config = _config(args, sizes, steps=sizes.repro_steps, save_every=sizes.repro_save_every, seed=args.seed,
                         **overrides)
        train(config, run, progress=False, figures=False)


def worker_ddp_one_rank(args, sizes: Sizes) -> dict:
    """A one-rank process group (NCCL on CUDA, gloo on CPU) and the trainer's DDP wrapper: a few steps,
    then checks that the weights moved and the losses are finite."""
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from nar_solver.data import make_source
    from nar_solver.data.stream import BatchStream
    from nar_solver.device import configure_backend, resolve_device
    from nar_solver.distributed import fingerprint
    from nar_solver.model.images import to_ink
    from nar_solver.train.step import FactorVAETrainer

    device = resolve_device(args.device)
    if device.type == "cuda" and device.index is None:  # DDP's device_ids need the index, as under torchrun
        device = torch.device("cuda", torch.cuda.current_device())
    configure_backend(device, 1)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend, rank=0, world_size=1)
    try:
        config = _config(args, sizes)
        # world_size=2 only asks the trainer to wrap DDP; the group itself has the one rank above
        trainer = FactorVAETrainer(config, device, rank=0, world_size=2)
        before = fingerprint(trainer.vae, trainer.disc)
        stream = BatchStream(make_source(config), 0, 0, 2, device)
        for step in range(sizes.ddp_steps):
            stats = trainer.step(to_ink(stream.batch(step, 0, sizes.batch), device),
                                 to_ink(stream.batch(step, 1, sizes.batch), device), step)
        _sync(device)
        return {"backend": backend, "wrapped": isinstance(trainer.vae_train, DistributedDataParallel),
                "steps": sizes.ddp_steps, "weights_changed": fingerprint(trainer.vae, trainer.disc) != before,
                "finite": all(math.isfinite(v) for v in stats.tolist())}
    finally:
        dist.destroy_process_group()


# ------------------------------------------------------------------------------------------------
# The parts (in the parent process)


def _run_worker(args, extra: list[str], timeout: float, env: dict | None = None) -> tuple[int, list[dict], str]:
    """A worker subprocess; (returncode, its JSON lines, its stderr tail). Killed at ``timeout``."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--device", args.device, *(["--tiny"] if args.tiny else []),
           *extra]
    code, out, err = _run(cmd, timeout, env or _env())
    rows = []
    for line in out.splitlines():
        if line.startswith("{"):
            rows.append(json.loads(line))
    return code, rows, err[-1500:]


def _run(cmd: list[str], timeout: float, env: dict) -> tuple[int, str, str]:
    """(returncode, stdout, stderr) of ``cmd`` in its own session; at ``timeout`` the whole session is
    killed (torchrun's ranks too, not only the launcher), and stderr says "timed out"."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=max(timeout, 1.0))
        return proc.returncode, out, err
    except subprocess.TimeoutExpired:
        _kill_session(proc)
        out, err = proc.communicate()
        return -signal.SIGKILL, out, (err or "") + "\ntimed out"


def _kill_session(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(extra)
    return env


def part_env(args, sizes, part: Part, deadline: float) -> None:
    # at least a minute: a cold start imports torch and CUDA; later parts' cumulative deadlines absorb it
    code, rows, err = _run_worker(args, ["--worker", "env"], max(deadline - time.time(), 60))
    part.results = rows
    part.status = "ok" if code == 0 and rows else "failed"
    if part.status == "failed":
        part.note = err.strip().splitlines()[-1] if err.strip() else f"exit {code}"
        return
    info = rows[0]
    if info["device"].startswith("cuda"):
        checks = {"bf16 autocast": info["logits_dtype_under_autocast"] == "torch.bfloat16",
                  "TF32 matmul": info["tf32_matmul"], "TF32 cuDNN": info["tf32_cudnn"]}
        missing = [name for name, ok in checks.items() if not ok]
        if missing:
            part.status, part.note = "failed", "not set on CUDA: " + ", ".join(missing)


def _speed_part(args, sizes, part: Part, deadline: float, modes: list[str]) -> None:
    from nar_solver.model.vae import ARCHITECTURE, ARCHITECTURES

    archs = list(ARCHITECTURES)
    if part.name == "compile":  # the paper's net first: the target is measured on it
        archs = [ARCHITECTURE] + ([a for a in archs if a != ARCHITECTURE] if not args.tiny else [])
    failures = []
    for mode in modes:
        left = deadline - time.time()
        if left < 5:
            part.note += f"{mode}: no time left; "
            continue
        # later modes must leave the others time: each mode gets an equal slice of what is left
        slice_end = time.time() + left / (len(modes) - modes.index(mode))
        code, rows, err = _run_worker(args, ["--worker", "speed", "--mode", mode, "--archs", ",".join(archs),
                                             "--backend", args.compile_backend, "--deadline", str(slice_end)],
                                      slice_end - time.time() + 30)
        part.results += rows
        if code == -signal.SIGKILL and err.endswith("timed out"):
            part.note += f"{mode}: stopped at its time limit; "
        elif code != 0:
            failures.append(f"{mode}: exit {code} ({err.strip().splitlines()[-1] if err.strip() else ''})")
        failures += [f"{r['mode']} {r['architecture']}: {r.get('error', 'non-finite losses')}" for r in rows
                     if r["status"] != "ok"]
        done = {r["architecture"] for r in rows if r["mode"] == mode}
        if len(done) < len(archs):
            part.note += f"{mode}: {', '.join(a for a in archs if a not in done)} not reached in time; "
    part.status = "failed" if failures else ("ok" if part.results else "skipped")
    part.note += "; ".join(failures)


def part_eager(args, sizes, part, deadline):
    _speed_part(args, sizes, part, deadline, ["eager"])


def part_compile(args, sizes, part, deadline):
    modes = [m for m in args.compile_modes.split(",") if m]
    if not modes:
        part.status, part.note = "skipped", "no --compile-modes"
        return
    _speed_part(args, sizes, part, deadline, modes)


def part_repro(args, sizes, part: Part, deadline: float) -> None:
    """Every reproduction run at once; SIGTERM (a clean, resumable save) when the share is spent."""
    runs_dir = _runs_dir(args)
    specs = [(f"{name}-s{seed}", overrides, seed) for seed in range(args.seeds) for name, overrides in REPRO_RUNS.items()]
    # as many as fit: each process renders its data on one CPU core, two cores kept for the rest
    cap = args.max_runs or (max(1, (os.cpu_count() or 2) - 2) if args.device.startswith("cuda") else len(specs))
    specs = specs[:cap]
    procs, started_at = [], {}
    for name, overrides, seed in specs:
        started_at[name] = max([r["step"] for r in _losses(runs_dir / name)], default=0)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--device", args.device,
               *(["--tiny"] if args.tiny else []), "--worker", "train", "--run", str(runs_dir / name),
               "--overrides", json.dumps(overrides), "--seed", str(seed)]
        log = open(runs_dir / f"{name}.log", "w")
        procs.append((name, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=_env(), cwd=ROOT,
                                             start_new_session=True), log))
    # stop with enough time left for the processes to save
    stop_at = deadline - min(30.0, 0.15 * max(deadline - time.time(), 0))
    while time.time() < stop_at and any(p.poll() is None for _, p, _ in procs):
        time.sleep(0.5)
    for _, proc, _ in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for name, proc, log in procs:
        try:
            proc.wait(timeout=max(deadline - time.time(), 10))
        except subprocess.TimeoutExpired:
            _kill_session(proc)
            proc.wait()
        log.close()
        part.results.append(_run_rate(name, runs_dir / name, proc.returncode, started_at[name]))
        _copy_small_files(runs_dir / name, Path(args.out) / "repro" / name)
    failed = [r["run"] for r in part.results if r["status"] == "failed"]
    part.status = "failed" if failed else "ok"
    total = sum(r.get("steps_per_s") or 0 for r in part.results)
    part.note = (f"{len(specs)} concurrent runs, {total:.1f} steps/s together"
                 + (f"; failed: {', '.join(failed)}" if failed else ""))


def _runs_dir(args) -> Path:
    path = Path(args.runs_dir) if args.runs_dir else Path(args.out) / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _copy_small_files(run: Path, dest: Path) -> None:
    """A run's config, losses and log into the report folder (the checkpoints stay in the run folder)."""
    dest.mkdir(parents=True, exist_ok=True)
    for src in (run / "config.json", run / "losses.jsonl", run.with_suffix(".log")):
        if src.is_file():
            shutil.copyfile(src, dest / src.name)


def _losses(run: Path) -> list[dict]:
    losses = run / "losses.jsonl"
    return [json.loads(line) for line in losses.read_text().splitlines()] if losses.is_file() else []


def _run_rate(name: str, run: Path, code: int, after_step: int = 0) -> dict:
    """Steps reached and steps/s of a run from the rows of its losses.jsonl past ``after_step`` (where
    this call's session began; its first row is left out: start-up)."""
    # exit -SIGTERM: our stop arrived after the run's last save (its loop had ended), not a crash
    row = {"run": name, "exit": code, "status": "ok" if code in (0, -signal.SIGTERM) else "failed"}
    rows = [r for r in _losses(run) if r["step"] > after_step]
    if not rows:
        if row["status"] == "ok":
            row["status"] = "no rows"  # stopped before its first log row: too little time, not a fault
        return row
    last = rows[-1]
    row.update(step=last["step"], recon=round(last["recon"], 2), kl=round(last["kl"], 2),
               finite=all(math.isfinite(r["loss"]) for r in rows))
    if len(rows) >= 2:
        first = rows[min(1, len(rows) - 2)] if len(rows) > 2 else rows[0]
        rate = (last["step"] - first["step"]) / max(last["seconds"] - first["seconds"], 1e-9)
        row.update(steps_per_s=round(rate, 1), minutes_for_target=round(TARGET_STEPS / max(rate, 1e-9) / 60, 1))
    if not row["finite"]:
        row["status"] = "failed"
    return row


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def part_ddp(args, sizes, part: Part, deadline: float) -> None:
    import torch

    procs = args.ddp_procs or (torch.cuda.device_count() if args.device.startswith("cuda") else 2)
    run = _runs_dir(args) / "ddp"
    shutil.rmtree(run, ignore_errors=True)  # a fresh DDP run each time
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}", "-m",
           "nar_solver", "train", "--data", "dsprites", "--steps", str(sizes.ddp_steps), "--batch-size",
           str(sizes.batch), "--save-every", str(max(1, sizes.ddp_steps // 2)), "--log-every", "1",
           "--latent-sample", str(sizes.latent_sample), "--device", args.device, "--threads", "1",
           "--no-progress", "--no-figures", "--out", str(run)]
    result = {"check": f"torchrun {procs} rank(s)"}
    code, _, err = _run(cmd, deadline - time.time() - 15, _env())  # 15 s kept for the one-rank check
    result["exit"] = code
    if code != 0:
        result["error"] = (err.strip().splitlines() or [""])[-1][:300]
    elif procs > 1:
        report = json.loads((run / "ddp.json").read_text())
        result.update(world_size=report["world_size"], identical=report["identical"], step=report["step"])
    else:
        result["note"] = "one rank: the project trains without DDP; see the one-rank group check"
    result["status"] = "ok" if code == 0 and result.get("identical", procs == 1) else "failed"
    part.results.append(result)
    left = deadline - time.time()
    if left < 5:
        part.results.append({"check": "one-rank DDP group", "status": "skipped", "note": "no time left"})
    else:
        code, rows, err = _run_worker(args, ["--worker", "ddp1"], left,
                                      env=_env(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port())))
        row = {"check": "one-rank DDP group", **(rows[0] if rows else {"error": err.strip()[-300:]})}
        row["status"] = "ok" if code == 0 and rows and all(rows[0][k] for k in ("wrapped", "weights_changed", "finite")) \
            else "failed"
        part.results.append(row)
    part.status = "ok" if all(r["status"] == "ok" for r in part.results) else "failed"


PARTS = {"env": part_env, "eager": part_eager, "compile": part_compile, "repro": part_repro, "ddp": part_ddp}


# ------------------------------------------------------------------------------------------------
# Summary


def summary_lines(parts: list[Part], budget: float, elapsed: float) -> list[str]:
    lines = [f"GPU check: {elapsed:.0f} s of a {budget:.0f} s budget"]
    for part in parts:
        lines.append(f"[{part.status:>7}] {part.name:<8} {part.seconds:6.1f} s  {part.note}".rstrip())
        for r in part.results:
            if part.name == "env":
                lines.append("           " + ", ".join(f"{k} {v}" for k, v in r.items()))
            elif part.name in ("eager", "compile"):
                lines.append(f"           {r['architecture']:<17} {r['mode']:<15} "
                             f"{r.get('steps_per_s', '-'):>7} steps/s ({r.get('steps_per_s_fixed_batches', '-')} on "
                             f"fixed batches), warm-up {r.get('warmup_s', '-')} s, {r['status']}"
                             + (f" {r['error']}" if r.get("error") else ""))
            elif part.name == "repro":
                lines.append(f"           {r['run']:<17} step {r.get('step', '-'):>7}  {r.get('steps_per_s', '-'):>7} "
                             f"steps/s  -> 3e5 in {r.get('minutes_for_target', '-')} min  recon {r.get('recon', '-')} "
                             f"kl {r.get('kl', '-')}  {r['status']}")
            else:
                lines.append("           " + ", ".join(f"{k} {v}" for k, v in r.items()))
    env = next((p.results[0] for p in parts if p.name == "env" and p.results), None)
    if env and env.get("renderer_bound_steps_per_s"):
        bound = env["renderer_bound_steps_per_s"]
        lines.append(f"data bound: the CPU dSprites renderer allows {bound} steps/s per process "
                     f"-> 3e5 steps in >= {TARGET_STEPS / bound / 60:.1f} min whatever the GPU")
    best = _best_single_run(parts)
    if best:
        rate, where = best
        minutes = TARGET_STEPS / rate / 60
        verdict = "met" if minutes <= TARGET_MINUTES else f"missed by {minutes - TARGET_MINUTES:.1f} min"
        lines.append(f"target 3e5 Factor-VAE steps <= {TARGET_MINUTES:.0f} min: best one-run rate {rate:.1f} steps/s "
                     f"({where}) -> {minutes:.1f} min, {verdict}")
    return lines


def _best_single_run(parts: list[Part]):
    rates = [(r["steps_per_s"], f"{r['mode']} {r['architecture']}") for p in parts if p.name in ("eager", "compile")
             for r in p.results if r.get("status") == "ok" and r["architecture"] == "factorvae-conv64"
             and r.get("steps_per_s")]
    return max(rates) if rates else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: tests the logic on a CPU in seconds")
    parser.add_argument("--out", default="gpu_check_out")
    parser.add_argument("--budget-s", type=float, default=450.0)
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--compile-modes", default=None,
                        help="default,reduce-overhead on CUDA; 'default' (backend eager) with --tiny on a CPU")
    parser.add_argument("--compile-backend", default=None, help="inductor (default; eager with --tiny on a CPU)")
    parser.add_argument("--seeds", type=int, default=3, help="reproduction seeds per objective")
    parser.add_argument("--max-runs", type=int, default=0,
                        help="concurrent reproduction runs (0: all that fit, one CPU core each, two kept free)")
    parser.add_argument("--runs-dir", default=None,
                        help="run folders, checkpoints included (default OUT/runs); OUT/repro gets their losses")
    parser.add_argument("--ddp-procs", type=int, default=0, help="torchrun ranks (0: every GPU; 2 on a CPU)")
    # worker options
    parser.add_argument("--worker", choices=("env", "speed", "train", "ddp1"), help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="eager", help=argparse.SUPPRESS)
    parser.add_argument("--backend", default="inductor", help=argparse.SUPPRESS)
    parser.add_argument("--archs", default="", help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, default=float("inf"), help=argparse.SUPPRESS)
    parser.add_argument("--run", default="", help=argparse.SUPPRESS)
    parser.add_argument("--overrides", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = Sizes.tiny() if args.tiny else Sizes()
    cpu_tiny = args.tiny and args.device == "cpu"
    if args.compile_backend is None:
        args.compile_backend = "eager" if cpu_tiny else "inductor"
    if args.compile_modes is None:
        args.compile_modes = "default" if cpu_tiny else "default,reduce-overhead"

    if args.worker == "env":
        print(json.dumps(worker_env(args, sizes)))
        return 0
    if args.worker == "speed":
        worker_speed(args, sizes)
        return 0
    if args.worker == "train":
        worker_train(args, sizes)
        return 0
    if args.worker == "ddp1":
        print(json.dumps(worker_ddp_one_rank(args, sizes)))
        return 0

    import torch  # noqa: F401 - imported before the clock starts (seconds on a loaded machine)

    import nar_solver.model.vae  # noqa: F401
    start = time.time()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    chosen = [p for p in args.parts.split(",") if p]
    unknown = [p for p in chosen if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    total_share = sum(SHARES[p] for p in chosen)
    parts, used_share = [], 0.0
    for name in chosen:
        used_share += SHARES[name]
        deadline = start + args.budget_s * used_share / total_share
        part = Part(name)
        parts.append(part)
        if deadline - time.time() < 2:
            part.status, part.note = "skipped", "budget spent"
            continue
        t0 = time.time()
        try:
            PARTS[name](args, sizes, part, deadline)
        except Exception as err:  # report and go on to the next part
            part.status, part.note = "failed", f"{err.__class__.__name__}: {str(err).splitlines()[0][:300]}"
        part.seconds = round(time.time() - t0, 1)
    elapsed = time.time() - start
    lines = summary_lines(parts, args.budget_s, elapsed)
    print("\n".join(lines))
    report = {"budget_s": args.budget_s, "elapsed_s": round(elapsed, 1), "tiny": args.tiny, "device": args.device,
              "sizes": asdict(sizes), "parts": [asdict(p) for p in parts], "summary": lines}
    (out / "gpu_check.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0 if all(p.status in ("ok", "skipped") for p in parts) else 1


if __name__ == "__main__":
    sys.exit(main())
