"""`nar-solver train`: train a Factor-VAE into a run folder (or resume one)."""
from __future__ import annotations

from pathlib import Path

import click

from nar_solver.errors import NarError


#: The TrainConfig fields this command sets, in --help order: (option, type, help). Every default is
#: None: "the preset's value, else TrainConfig's" (on --resume: "the stored run's").
CONFIG_OPTIONS: tuple[tuple[str, type | None, str], ...] = (
    # what is learned: the data and the network
    ("--data", str, "boards (default) | objects | dsprites | a puzzle folder (all its PNGs)."),
    ("--steps", int, "Total training steps."), ("--z-dim", int, "Latent dimensions (default 10)."),
    ("--architecture", str, "factorvae-conv64 (default: the paper's deconvolution decoder) | broadcast16 | "
                            "broadcast32 | broadcast64 (spatial broadcast decoder at that grid, docs/training.md)."),
    ("--hold-out", str, "Shapes never drawn in training, comma-separated (e.g. k,u,psi,w), to test unseen shapes."),
    # the objective
    ("--tc", str, "Total-correlation penalty: discriminator | gaussian | gaussian-prior | none."),
    ("--gamma", float, "TC weight (0 = plain VAE)."), ("--beta", float, "KL weight (beta-VAE when != 1)."),
    ("--kl-warmup", int, "Steps over which the KL weight rises from 0 to beta (default 0 = off)."),
    ("--tc-warmup", int, "Steps over which the TC weight rises from 0 to gamma (default 0 = off)."),
    # the optimisation
    ("--batch-size", int, "Images per batch (default 64; D sees a second batch)."),
    ("--init", str, "default (PyTorch init, log-variance bias -6) | reference (N(0, 0.02))."),
    ("--lr", float, "VAE learning rate."), ("--lr-d", float, "Discriminator learning rate."),
    ("--seed", int, "Seed of every random source (default 0)."),
    # where and how fast it runs
    ("--device", str, "auto | cpu | cuda | cuda:N (default auto = CUDA when available)."),
    ("--precision", str, "auto | fp32 | bf16 (auto: bf16 autocast on CUDA and on CPUs with native bf16)."),
    ("--compile/--no-compile", None, "torch.compile the networks (slow start)."),
    ("--channels-last/--no-channels-last", None,
     "Channels-last memory layout for the convolutions (default on; a speed setting only)."),
    ("--threads", int, "CPU threads (0 = every core not busy with other work at start)."),
    # the run folder
    ("--save-every", int, "Checkpoint every N steps (default 1000)."),
    ("--log-every", int, "One losses.jsonl row per N steps (default 10)."),
    ("--latent-sample", int, "Images encoded for latent_low/high (default 2048)."),
    # the images
    ("--jitter", float, "Max position jitter in px (objects default 2, boards 0)."),
    ("--jitter-fraction", float, "Fraction of objects jittered (default 0.5)."),
    ("--variation/--no-variation", None, "Glyph variation (default off: puzzles have none)."),
    ("--min-objects", int, "Boards: fewest objects (default 1)."),
    ("--max-objects", int, "Boards: most objects (default 3)."),
)


def config_options(func):
    """Attach :data:`CONFIG_OPTIONS`; click passes each as the keyword of its TrainConfig field."""
    for flag, kind, help_text in reversed(CONFIG_OPTIONS):
        func = click.option(flag, type=kind, default=None, help=help_text)(func)
    return func


@click.command("train")
@click.option("--preset", default=None, help="Settings of a shipped model: objects | boards. Options override it.")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None, help="New run folder.")
@click.option("--resume", "resume", type=click.Path(path_type=Path), default=None,
              help="Continue the run in this folder exactly (--steps may raise the total).")
@config_options
@click.option("--progress/--no-progress", default=True, help="Show the progress bar.")
@click.option("--figures/--no-figures", default=True, help="Draw the figures when training ends.")
def command(preset, out, resume, progress, figures, **options):
    """Train a Factor-VAE on NAR images; write checkpoints, losses and figures into the run folder."""
    from nar_solver.distributed import DistContext
    from nar_solver.train import TrainConfig, train

    if (out is None) == (resume is None):
        raise NarError("give exactly one of --out DIR (new run) or --resume DIR")
    if resume is not None:
        if preset is not None:
            raise NarError("--preset cannot be combined with --resume (the run keeps its settings)")
        run = train(options, resume, resume=True, progress=progress, figures=figures)
    else:
        config = TrainConfig.from_preset(preset, **options)
        run = train(config, out, resume=False, progress=progress, figures=figures)
    if DistContext.from_env().is_main:
        print_summary(run)


def print_summary(run: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    from nar_solver.train.report import summarise

    s = summarise(run)
    table = Table(title=f"training run {s['run']}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    status = "finished" if s["steps_done"] >= s["steps_planned"] else "stopped early (resume with --resume)"
    table.add_row("steps", f"{s['steps_done']} of {s['steps_planned']} ({status})")
    table.add_row("data / penalty", f"{s['data']} / tc={s['tc']} gamma={s['gamma']:g} beta={s['beta']:g}")
    if "seconds" in s:
        table.add_row("time", f"{s['seconds']:.1f} s")
    if "ms_per_step" in s:
        threads = f", {s['threads']} CPU thread(s)" if s.get("threads") else ""
        table.add_row("speed (this session)", f"{s['ms_per_step']:.1f} ms/step, {s['images_per_s']:.0f} images/s, "
                      f"data {100 * s['data_share']:.1f}% of it{threads}")
    last = s["last"]
    if last:
        parts = [f"recon {last['recon']:.2f}", f"KL {last['kl']:.3f}", f"TC {last['tc']:.3f}"]
        if last.get("d_loss") is not None:
            parts += [f"D loss {last['d_loss']:.4f}", f"D acc {last['d_acc']:.3f}"]
        table.add_row(f"last window (step {last['step']})", ", ".join(parts))
    table.add_row("files", ", ".join(s["files"]))
    Console().print(table)
