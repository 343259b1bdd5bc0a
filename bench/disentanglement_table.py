"""Train and measure the README's disentanglement table: four objectives x two worlds x N seeds.

    python bench/disentanglement_table.py --steps 3000 --seeds 0 1 --threads 1 --out runs/table3k

Objectives, all with the same network, optimiser, batch and number of steps:

    vae        plain VAE                      (beta 1, no TC term)
    beta-vae   beta-VAE                       (beta 4, no TC term)
    fvae-d     Factor-VAE, discriminator TC   (beta 1, gamma G)
    fvae-g     Factor-VAE, Gaussian TC        (beta 1, gamma G; docs/training.md)
    fvae-gp    the proposal's other form: KL of the batch Gaussian to N(0, I)  (only with --methods)

on procedural dSprites (gamma 35, the reference study's good value there) and on single NAR
objects (gamma 20, the shipped objects preset). Optimiser settings are the objects preset's
(Adam 4e-4 VAE / 1e-4 D) in both worlds so the short budget goes further (at 2e-4 both Factor-VAE
runs with the discriminator were still on the mean-image plateau after 3000 steps: reconstruction
401 nats on dSprites and 214 on objects, where the plain VAE reached 62 and 84). At 4e-4 the
dSprites run with gamma 35 still stayed there, so both Factor-VAE objectives ramp gamma in over the
first third of the steps (`tc_warmup`, see docs/training.md). Every run is measured
with the `standard` metric preset (`nar-solver metrics RUN --preset standard --seed S`).
Measurements are cached per run as metrics-<world>-<preset>-v<REPORT_VERSION>.json: when the
metrics change meaning (a new world rendering, new metrics) the version moves and every run is
measured again instead of silently reusing a stale report.

The script is resumable: finished runs and finished measurements are kept, an interrupted run is
resumed. It prints the step time of every run and writes, under --out:

    <world>/<method>/seed<S>/      the run folders (with metrics-<world>-standard-v<N>.json)
    results.json                   every run's summary metrics, final recon / KL and training time
    table.md                       mean +- half the range over seeds, per world and objective
    table.png                      the same as bars (seed mean) and dots (each seed)
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from nar_solver.metrics.runner import (
    REPORT_VERSION,
    UNSUPERVISED_KEYS,
    DisentanglementSettings,
    evaluate_checkpoint,
)
from nar_solver.io import atomic_write_json, atomic_write_text

METHODS = {
    "vae": ("VAE", dict(tc="none", gamma=0.0, beta=1.0)),
    "beta-vae": ("beta-VAE (beta 4)", dict(tc="none", gamma=0.0, beta=4.0)),
    "fvae-d": ("Factor-VAE, discriminator TC", dict(tc="discriminator", beta=1.0)),
    "fvae-g": ("Factor-VAE, Gaussian TC", dict(tc="gaussian", beta=1.0)),
    "fvae-gp": ("Factor-VAE, Gaussian KL to N(0, I)", dict(tc="gaussian-prior", beta=1.0)),
}
DEFAULT_METHODS = ["vae", "beta-vae", "fvae-d", "fvae-g"]  # the four; fvae-gp on request
GAMMA = {"dsprites": 35.0, "objects": 20.0}
#: Fraction of the steps over which gamma ramps up from 0 (TrainConfig.tc_warmup): without it the
#: discriminator runs on dSprites never left the mean-image plateau within 3000 steps.
TC_WARMUP = 1 / 3
#: The table's metrics (every report holds the whole suite). SAP and Modularity add a view of
#: disentanglement that MIG and DCI do not give (single-dimension prediction; per-dimension purity);
#: the Gaussian TC (nats, lower is better) is what the Factor-VAE objectives penalise. The beta-VAE
#: score and Explicitness stay in the JSON: both saturate on these worlds (docs/metrics.md).
COLUMNS = (
    ("factorvae_score", "FactorVAE"),
    ("mig", "MIG"),
    ("sap", "SAP"),
    ("dci_disentanglement", "DCI D"),
    ("dci_completeness", "DCI C"),
    ("dci_informativeness", "DCI I"),
    ("modularity", "Mod"),
    ("sis", "SIS"),
    ("gaussian_total_correlation", "TC (nats)"),
)
#: The columns on a 0..1 scale, the ones the figure draws.
BOUNDED_COLUMNS = tuple((key, title) for key, title in COLUMNS if key not in UNSUPERVISED_KEYS)


def make_config(world: str, method: str, seed: int, steps: int, threads: int, device: str = "cpu",
                architecture: str = "factorvae-conv64"):
    from nar_solver.train import TrainConfig

    overrides = dict(METHODS[method][1])
    if overrides["tc"] != "none":
        overrides["gamma"] = GAMMA[world]
        overrides["tc_warmup"] = round(TC_WARMUP * steps)
    common = dict(steps=steps, seed=seed, device=device, threads=threads, lr=4e-4, lr_d=1e-4, batch_size=64,
                  z_dim=10, save_every=max(steps // 3, 1), architecture=architecture)
    if world == "objects":
        return TrainConfig.from_preset("objects", **common, **overrides)
    return TrainConfig.from_preset(None, data="dsprites", **common, **overrides)


def finished_step(run: Path) -> int:
    """The step of the saved weights, 0 when nothing is saved yet."""
    from nar_solver.run.checkpoint import load_model

    if not (run / "model.safetensors").is_file():
        return 0
    return load_model(run).step


def train_run(run: Path, config, log) -> float:
    """Train (or resume) one run; return the seconds spent now."""
    from nar_solver.train import train

    started = time.perf_counter()
    done = finished_step(run)
    if done >= config.steps:
        return 0.0
    resume = (run / "train_state.pt").is_file()
    log(f"train {run} ({'resume from ' + str(done) if resume else 'new'}, {config.steps} steps)")
    train(None if resume else config, run, resume=resume, progress=False, figures=True)
    seconds = time.perf_counter() - started
    reached = finished_step(run)
    log(f"  {seconds:.0f} s, {seconds / max(reached - done, 1):.3f} s/step, now at step {reached}")
    return seconds


def metrics_path(run: Path, world: str, preset: str) -> Path:
    """The cached report of one run: named with the report version, so a stale one is never read."""
    return run / f"metrics-{world}-{preset}-v{REPORT_VERSION}.json"


def measure_run(run: Path, world: str, seed: int, preset: str, log, device: str = "cpu") -> dict:
    out = metrics_path(run, world, preset)
    if out.is_file():
        return json.loads(out.read_text())
    log(f"measure {run} on {world} ({preset})")
    report = evaluate_checkpoint(run, data=world, seed=seed, settings=DisentanglementSettings.preset(preset),
                                 device=device)
    report.run["preset"] = preset
    data = report.to_json()
    atomic_write_json(out, data)
    log(f"  {report.seconds:.0f} s: " + ", ".join(f"{k} {v:.3f}" for k, v in report.summary().items()))
    return data


def final_losses(run: Path) -> dict:
    """Reconstruction, KL and training seconds of the run's last losses.jsonl row (shows collapse)."""
    from nar_solver.run.folder import RunFolder

    rows = RunFolder(run).read_losses()
    last = rows[-1] if rows else {}
    return {"recon": last.get("recon", float("nan")), "kl": last.get("kl", float("nan")),
            "train_seconds": last.get("seconds", float("nan"))}


def plot_table(results: list[dict], worlds: list[str], path: Path) -> None:
    """One panel per world: every metric per objective, a bar for the seed mean and a dot per seed."""
    from nar_solver.figures import _pyplot, _save

    fig, axes = _pyplot().subplots(len(worlds), 1, figsize=(9, 3.2 * len(worlds)), squeeze=False)
    width = 0.8 / len(METHODS)
    for ax, world in zip(axes[:, 0], worlds):
        for m, (method, (title, _)) in enumerate(METHODS.items()):
            rows = [r for r in results if r["world"] == world and r["method"] == method]
            if not rows:
                continue
            x = np.arange(len(BOUNDED_COLUMNS)) + (m - (len(METHODS) - 1) / 2) * width
            values = np.array([[r["summary"][key] for key, _ in BOUNDED_COLUMNS] for r in rows])
            ax.bar(x, values.mean(0), width, label=title, color=f"C{m}", alpha=0.7)
            for v in values:
                ax.plot(x, v, "o", color=f"C{m}", markersize=3)
        ax.set_xticks(np.arange(len(BOUNDED_COLUMNS)), [title for _, title in BOUNDED_COLUMNS])
        ax.set_ylim(0, 1.05)
        ax.set_title(world)
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    _save(fig, path)


def format_table(results: list[dict], worlds: list[str], steps: int, seeds: list[int],
                 architecture: str = "factorvae-conv64", preset: str = "standard") -> str:
    lines = []
    for world in worlds:
        lines.append(f"**{world}**, {architecture} ({steps} steps, seeds {', '.join(map(str, seeds))}; "
                     f"{preset} metric preset, report v{REPORT_VERSION}; mean ± half the range)\n")
        lines.append("| objective | " + " | ".join(title for _, title in COLUMNS) + " | recon | KL |")
        lines.append("|---" * (len(COLUMNS) + 3) + "|")
        for method, (title, _) in METHODS.items():
            rows = [r for r in results if r["world"] == world and r["method"] == method]
            if not rows:
                continue
            cells = []
            for key in [key for key, _ in COLUMNS] + ["recon", "kl"]:
                values = np.array([r["summary"].get(key, r.get(key)) for r in rows], dtype=float)
                spread = (values.max() - values.min()) / 2
                digits = 2 if key in dict(COLUMNS) else 1
                cells.append(f"{values.mean():.{digits}f} ± {spread:.{digits}f}" if len(values) > 1
                             else f"{values[0]:.{digits}f}")
            label = title if method in ("vae", "beta-vae") else f"{title} (gamma {GAMMA[world]:g})"
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def reference_rows(worlds: list[str], preset: str, seed: int = 0, rotations: int = 3) -> str:
    """What the metrics give for synthetic codes with each world's factor sizes: the scale to read
    the trained models' numbers against (a perfect code is not 1 on every metric, and a rotated
    one is not 0 on every metric)."""
    from nar_solver.metrics.runner import evaluate_disentanglement
    from nar_solver.data import make_world
    from nar_solver.metrics.sampling import CodedWorld

    settings = DisentanglementSettings.preset(preset)
    lines = []
    for name in worlds:
        real = make_world(name)
        world = CodedWorld(real.factor_sizes, real.factor_names, real.categorical)
        sizes = np.asarray(world.factor_sizes, dtype=float)
        k = len(sizes)

        def perfect(images):
            return (world.decode(images) - (sizes - 1) / 2) / np.sqrt((sizes**2 - 1) / 12)

        def rotated(draw):
            q, r = np.linalg.qr(np.random.default_rng(1000 + draw).standard_normal((k, k)))
            rotation = q * np.sign(np.diag(r))
            return lambda images: perfect(images) @ rotation.T

        codes = {
            "perfect code (one dimension per factor)": [perfect],
            f"random rotations of it (mean ± half range of {rotations})": [rotated(i) for i in range(rotations)],
            f"perfect code without {world.factor_names[-1]}": [lambda images: perfect(images)[:, :-1]],
        }
        lines.append(f"**{name}: synthetic reference codes** ({preset} preset, seed {seed})\n")
        lines.append("| code | " + " | ".join(title for _, title in COLUMNS) + " |")
        lines.append("|---" * (len(COLUMNS) + 1) + "|")
        for label, encoders in codes.items():
            summaries = [evaluate_disentanglement(e, world, seed, settings).summary() for e in encoders]
            cells = []
            for key, _ in COLUMNS:
                values = np.array([s[key] for s in summaries])
                spread = (values.max() - values.min()) / 2
                cells.append(f"{values.mean():.2f} ± {spread:.2f}" if len(values) > 1 else f"{values[0]:.2f}")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--worlds", nargs="+", default=["objects", "dsprites"], choices=sorted(GAMMA))
    parser.add_argument("--methods", nargs="+", default=DEFAULT_METHODS, choices=list(METHODS))
    parser.add_argument("--preset", default="standard", choices=("fast", "standard", "full"))
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads per run (0: all cores)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto, for training and measuring")
    parser.add_argument("--architecture", default="factorvae-conv64",
                        help="network of every run: factorvae-conv64 (the paper's) or a broadcast decoder")
    parser.add_argument("--out", type=Path, default=Path("runs/table"))
    parser.add_argument("--reference", action="store_true",
                        help="only measure synthetic reference codes (perfect, rotated, missing a factor)")
    args = parser.parse_args(argv)
    if args.reference:
        text = reference_rows(args.worlds, args.preset)
        atomic_write_text(args.out / "reference.md", text + "\n")
        print(text)
        return 0

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    results = []
    for world in args.worlds:  # one world's table completes before the next starts
        for seed in args.seeds:
            for method in args.methods:
                run = args.out / world / method / f"seed{seed}"
                config = make_config(world, method, seed, args.steps, args.threads, args.device,
                                     args.architecture)
                train_run(run, config, log)
                report = measure_run(run, world, seed, args.preset, log, args.device)
                results.append(dict(world=world, method=method, seed=seed, steps=args.steps,
                                    architecture=args.architecture, preset=args.preset,
                                    report_version=report.get("version"),
                                    summary=report["summary"], metrics_seconds=report["seconds"],
                                    **final_losses(run)))
                atomic_write_json(args.out / "results.json", results)
    table = format_table(results, args.worlds, args.steps, args.seeds, args.architecture, args.preset)
    atomic_write_text(args.out / "table.md", table + "\n")
    plot_table(results, args.worlds, args.out / "table.png")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
