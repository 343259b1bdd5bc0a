"""`nar-solver train`: train a Factor-VAE into a run folder (or resume one)."""
from __future__ import annotations

from pathlib import Path

import click

from nar_solver.errors import NarError


def default_text(field: str) -> str:
    """What a training option defaults to: the TrainConfig default, resolved for the data where it
    depends on it, and each preset's value where that differs (read when --help is shown)."""
    from nar_solver.train.config import PRESETS, TrainConfig

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
        field = "compile" if self.name == "compile_" else self.name
        return record[0], f"{record[1]}  [default: {default_text(field)}]"


@click.command("train")
@click.option("--preset", default=None, help="Settings of a shipped model: objects | boards. Options override it.")
@click.option("--data", cls=ConfigOption, default=None, help="boards | objects | dsprites | a puzzle folder (all its PNGs).")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None, help="New run folder.")
@click.option("--resume", "resume", type=click.Path(path_type=Path), default=None,
              help="Continue the run in this folder exactly (--steps may raise the total).")
@click.option("--steps", cls=ConfigOption, type=int, default=None, help="Total training steps.")
@click.option("--z-dim", cls=ConfigOption, type=int, default=None, help="Latent dimensions.")
@click.option("--architecture", cls=ConfigOption, default=None,
              help="factorvae-conv64 (the paper's deconvolution decoder) | broadcast16 | broadcast32 | "
                   "broadcast64 (spatial broadcast decoder at that grid, docs/training.md).")
@click.option("--hold-out", "hold_out", cls=ConfigOption, default=None,
              help="Shapes never drawn in training, comma-separated (e.g. k,u,psi,w), to test unseen shapes.")
@click.option("--tc", cls=ConfigOption, default=None, help="Total-correlation penalty: discriminator | gaussian | gaussian-prior | none.")
@click.option("--gamma", cls=ConfigOption, type=float, default=None, help="TC weight (0 = plain VAE).")
@click.option("--beta", cls=ConfigOption, type=float, default=None, help="KL weight (beta-VAE when != 1).")
@click.option("--kl-warmup", cls=ConfigOption, type=int, default=None,
              help="Steps over which the KL weight rises from 0 to beta (0 = off).")
@click.option("--tc-warmup", cls=ConfigOption, type=int, default=None,
              help="Steps over which the TC weight rises from 0 to gamma (0 = off).")
@click.option("--batch-size", cls=ConfigOption, type=int, default=None, help="Images per batch (the discriminator sees a second batch).")
@click.option("--init", cls=ConfigOption, default=None, help="default (PyTorch init, log-variance bias -6) | reference (N(0, 0.02)).")
@click.option("--lr", cls=ConfigOption, type=float, default=None, help="VAE learning rate.")
@click.option("--lr-d", cls=ConfigOption, type=float, default=None, help="Discriminator learning rate.")
@click.option("--seed", cls=ConfigOption, type=int, default=None, help="Seed of every random source.")
@click.option("--device", cls=ConfigOption, default=None, help="auto | cpu | cuda (auto = CUDA when available).")
@click.option("--precision", cls=ConfigOption, default=None, help="auto | fp32 | bf16 (auto: bf16 autocast on CUDA and on CPUs with native bf16).")
@click.option("--compile/--no-compile", "compile_", cls=ConfigOption, default=None, help="torch.compile the networks (slow start).")
@click.option("--threads", cls=ConfigOption, type=int, default=None, help="CPU threads (0 = every core not busy with other work at start).")
@click.option("--save-every", cls=ConfigOption, type=int, default=None, help="Checkpoint every N steps.")
@click.option("--log-every", cls=ConfigOption, type=int, default=None, help="Append one losses.jsonl row (window means) every N steps.")
@click.option("--jitter", cls=ConfigOption, type=float, default=None, help="Max position jitter in px.")
@click.option("--jitter-fraction", cls=ConfigOption, type=float, default=None, help="Fraction of objects jittered.")
@click.option("--variation/--no-variation", cls=ConfigOption, default=None, help="Glyph variation (stroke, rotation, shear; puzzles have none).")
@click.option("--min-objects", cls=ConfigOption, type=int, default=None, help="Boards: fewest objects.")
@click.option("--max-objects", cls=ConfigOption, type=int, default=None, help="Boards: most objects.")
@click.option("--latent-sample", cls=ConfigOption, type=int, default=None, help="Images encoded for latent_low/high.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show the progress bar.")
@click.option("--figures/--no-figures", default=True, show_default=True, help="Draw the figures when training ends.")
@click.option("--tensorboard", is_flag=True,
              help="Also write TensorBoard events to RUN/tensorboard/: losses at every --log-every, "
                   "reconstructions and traversals at every checkpoint (needs the optional extra: "
                   "pip install 'nar-solver[tensorboard]').")
def command(preset, data, out, resume, steps, z_dim, architecture, hold_out, tc, gamma, beta, kl_warmup, tc_warmup, batch_size, init, lr, lr_d, seed, device, precision,
            compile_, threads, save_every, log_every, jitter, jitter_fraction, variation, min_objects, max_objects,
            latent_sample, progress, figures, tensorboard):
    """Train a Factor-VAE on NAR images; write checkpoints, losses and figures into the run folder
    (layout, presets, resume and the mean-image plateau: docs/training.md)."""
    from nar_solver.train import TrainConfig, train
    from nar_solver.train.loop import DistContext

    options = dict(data=data, steps=steps, z_dim=z_dim, architecture=architecture, hold_out=hold_out, tc=tc, gamma=gamma, beta=beta, kl_warmup=kl_warmup,
                   tc_warmup=tc_warmup,
                   batch_size=batch_size,
                   init=init, lr=lr, lr_d=lr_d, seed=seed, device=device, precision=precision, compile=compile_,
                   threads=threads, save_every=save_every, log_every=log_every, jitter=jitter,
                   jitter_fraction=jitter_fraction, variation=variation, min_objects=min_objects,
                   max_objects=max_objects, latent_sample=latent_sample)
    if (out is None) == (resume is None):
        raise NarError("give exactly one of --out DIR (new run) or --resume DIR")
    if resume is not None:
        if preset is not None:
            raise NarError("--preset cannot be combined with --resume (the run keeps its settings)")
        stored = TrainConfig.load(resume / "config.json") if (resume / "config.json").is_file() else None
        config = None
        if stored is not None:
            given = {k: v for k, v in options.items() if v is not None}
            config = stored.replace(**given) if given else None
        run = train(config, resume, resume=True, progress=progress, figures=figures, tensorboard=tensorboard)
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
        parts = [f"recon {last['recon']:.2f}", f"KL {last['kl']:.3f}", f"TC {last['tc']:.3f}"]
        if last.get("d_loss") is not None:
            parts += [f"D loss {last['d_loss']:.4f}", f"D acc {last['d_acc']:.3f}"]
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
