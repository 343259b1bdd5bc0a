"""`nar-solver train`: train a Factor-VAE into a run folder (or resume one)."""
from __future__ import annotations

from pathlib import Path

import click

from nar_solver.errors import NarError


def default_text(field: str) -> str:
    """What a training option defaults to: the TrainConfig default, resolved for the data where it
    depends on it, and each preset's value where that differs (read when --help is shown)."""
    from nar_solver.run.config import PRESETS, TrainConfig

    base = TrainConfig()
    if field == "jitter":
        value = "2 for objects, 0 for boards"
    else:
        value = getattr(base, field)
        value = "off" if value is False else "on" if value is True else ("none" if value == "" else value)

    def plain(v):
        return f"{v:g}" if isinstance(v, float) else str(v)

    presets = []
    for name, preset in PRESETS.items():
        if field not in preset:
            continue
        usual = TrainConfig(data=preset.get("data", base.data)).resolve() if field == "jitter" else base
        if preset[field] != getattr(usual, field):
            presets.append(f"--preset {name}: {plain(preset[field])}")
    return plain(value) + (f"; {', '.join(presets)}" if presets else "")


class ConfigOption(click.Option):
    """An option of a TrainConfig field: None means "not given", and --help states the real default."""

    def get_help_record(self, ctx):
        record = super().get_help_record(ctx)
        if record is None:
            return None
        from nar_solver.run.config import LIMITS

        field = "compile" if self.name == "compile_" else self.name
        most = f"; at most {LIMITS[field]}" if field in LIMITS else ""
        return record[0], f"{record[1]}  [default: {default_text(field)}{most}]"


#: The TrainConfig fields this command sets, in --help order: (option, type, help). Every default is
#: None: "the preset's value, else TrainConfig's" (on --resume: "the stored run's").
CONFIG_OPTIONS: tuple[tuple[str, type | None, str], ...] = (
    # what is learned: the data and the network
    ("--data", str, "boards | objects | dsprites | a puzzle folder (all its PNGs)."),
    ("--steps", int, "Total training steps."), ("--z-dim", int, "Latent dimensions."),
    ("--architecture", str, "factorvae-conv64 (the paper's deconvolution decoder) | broadcast16 | "
                            "broadcast32 | broadcast64 (spatial broadcast decoder at that grid) | whatwhere32 (a glyph tile "
                            "placed at z[0], z[1]; docs/training.md)."),
    ("--hold-out", str, "Shapes never drawn in training, comma-separated (e.g. k,u,psi,w), to test unseen shapes."),
    # the objective
    ("--tc", str, "Total-correlation penalty: discriminator | gaussian | gaussian-prior | none."),
    ("--gamma", float, "TC weight (0 = plain VAE)."), ("--beta", float, "KL weight (beta-VAE when != 1)."),
    ("--kl-warmup", int, "Steps over which the KL weight rises from 0 to beta (0 = off)."),
    ("--tc-warmup", int, "Steps over which the TC weight rises from 0 to gamma (0 = off)."),
    ("--ink-weight", float, "Weight of ink pixels in the reconstruction term (1 = plain Bernoulli)."),
    ("--recon-scales", int, "Also score 2x, 4x ... average-pooled images (1 = full resolution only)."),
    # the optimisation
    ("--batch-size", int, "Images per batch (the discriminator sees a second batch)."),
    ("--init", str, "default (PyTorch init, log-variance bias -6) | reference (N(0, 0.02))."),
    ("--lr", float, "VAE learning rate."), ("--lr-d", float, "Discriminator learning rate."),
    ("--seed", int, "Seed of every random source."),
    # where and how fast it runs
    ("--device", str, "auto | cpu | cuda | cuda:N (auto = CUDA when available)."),
    ("--precision", str, "auto | fp32 | bf16 (auto: bf16 autocast on CUDA and on CPUs with native bf16)."),
    ("--compile/--no-compile", None, "torch.compile the networks (slow start)."),
    ("--channels-last/--no-channels-last", None,
     "Channels-last memory layout for the convolutions (a speed setting only)."),
    ("--threads", int, "CPU threads (0 = every core not busy with other work at start)."),
    # the run folder
    ("--save-every", int, "Checkpoint every N steps."),
    ("--log-every", int, "Append one losses.jsonl row (window means) every N steps."),
    ("--latent-sample", int, "Images encoded for latent_low/high."),
    # the images
    ("--jitter", float, "Max position jitter in px."),
    ("--jitter-fraction", float, "Fraction of objects jittered."),
    ("--variation/--no-variation", None, "Glyph variation (stroke, rotation, shear; puzzles have none)."),
    ("--min-objects", int, "Boards: fewest objects."),
    ("--max-objects", int, "Boards: most objects."),
)


def config_options(func):
    """Attach :data:`CONFIG_OPTIONS`; click passes each as the keyword of its TrainConfig field."""
    for flag, kind, help_text in reversed(CONFIG_OPTIONS):
        func = click.option(flag, type=kind, default=None, help=help_text, cls=ConfigOption)(func)
    return func


@click.command("train")
@click.option("--preset", default=None,
              help="Settings of a shipped model: objects | objects-broadcast | objects-whatwhere | boards | "
                   "boards-broadcast. "
                   "Options override it.")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None, help="New run folder.")
@click.option("--resume", "resume", type=click.Path(path_type=Path), default=None,
              help="Continue the run in this folder exactly (--steps may raise the total).")
@config_options
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show the progress bar.")
@click.option("--figures/--no-figures", default=True, show_default=True, help="Draw the figures when training ends.")
@click.option("--tensorboard", is_flag=True,
              help="Also write TensorBoard events to RUN/tensorboard/: losses at every --log-every, "
                   "reconstructions and traversals at every checkpoint (needs the optional extra: "
                   "pip install 'nar-solver[tensorboard]').")
def command(preset, out, resume, progress, figures, tensorboard, **options):
    """Train a Factor-VAE on NAR images; write checkpoints, losses and figures into the run folder
    (layout, presets, resume and the mean-image plateau: docs/training.md)."""
    from nar_solver.distributed import DistContext
    from nar_solver.train import TrainConfig, train

    if (out is None) == (resume is None):
        raise NarError("give exactly one of --out DIR (new run) or --resume DIR")
    if resume is not None:
        if preset is not None:
            raise NarError("--preset cannot be combined with --resume (the run keeps its settings)")
        run = train(options, resume, resume=True, progress=progress, figures=figures, tensorboard=tensorboard)
    else:
        config = TrainConfig.from_preset(preset, **options)
        run = train(config, out, resume=False, progress=progress, figures=figures, tensorboard=tensorboard)
    if DistContext.from_env().is_main:
        print_summary(run)


def print_summary(run: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    from nar_solver.train.report import MEAN_IMAGE_SPREAD, summarise

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
        # a row of a hand-edited log may lack a value (losses.jsonl checks types, not presence)
        shown = (("recon", "recon", ".2f"), ("KL", "kl", ".3f"), ("TC", "tc", ".3f"), ("D loss", "d_loss", ".4f"),
                 ("D acc", "d_acc", ".3f"))
        parts = [f"{label} {last[key]:{fmt}}" for label, key, fmt in shown if last.get(key) is not None]
        table.add_row(f"last window (step {last['step']})", ", ".join(parts))
    table.add_row("files", ", ".join(s["files"]))
    console = Console()
    console.print(table)
    spread = s.get("recon_spread")
    if spread is not None and spread < MEAN_IMAGE_SPREAD:
        console.print(f"[yellow]warning:[/] the reconstructions are still close to the mean image (they vary "
                      f"{spread:.2f} as much as the inputs): the mean-image plateau of docs/training.md; "
                      f"train longer with --resume {s['run']} --steps N, or see --tc-warmup there",
                      soft_wrap=True)
