"""`nar-solver train`: train a Factor-VAE into a run folder (or resume one)."""
from __future__ import annotations

from pathlib import Path

import click

from nar_solver.cli._options import check_threads
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
        if field == "threads":
            most = "; at most this machine's cores"
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
    ("--threads", int, "CPU threads (0 = every core not busy with other work at start; more help "
                       "training when the machine is idle, docs/training.md)."),
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
        func = click.option(flag, type=kind, default=None, help=help_text, cls=ConfigOption,
                            callback=check_threads if flag == "--threads" else None)(func)
    return func


@click.command("train")
@click.option("--preset", default=None,
              help="Settings of a shipped model: objects | objects-broadcast | objects-whatwhere | boards | "
                   "boards-broadcast. "
                   "Options override it.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Start from the settings of this JSON file: a previous run's config.json, or one written "
                   "by hand with any of the fields (docs/training.md). Options override it.")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None, help="New run folder.")
@click.option("--resume", "resume", type=click.Path(path_type=Path), default=None,
              help="Continue the run in this folder exactly (it needs its train_state.pt; --steps may raise "
                   "the total, never lower it below the steps done).")
@click.option("--init-from", "init_from", type=click.Path(path_type=Path), default=None,
              help="Fine-tune: start a new run (--out) from the VAE weights of this run folder (a shipped "
                   "model, or any run without train_state.pt), with its settings unless options change them "
                   "(not its architecture or z_dim); optimisers and steps start afresh  [default: none, fresh "
                   "weights]")
@config_options
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show the progress bar.")
@click.option("--figures/--no-figures", default=True, show_default=True, help="Draw the figures when training ends.")
@click.option("--tensorboard", is_flag=True,
              help="Also write TensorBoard events to RUN/tensorboard/: losses at every --log-every, "
                   "reconstructions and traversals at every checkpoint (needs the optional extra: "
                   "pip install 'nar-solver[tensorboard]').")
def command(preset, config_file, out, resume, init_from, progress, figures, tensorboard, **options):
    """Train a Factor-VAE on NAR images; write checkpoints, losses and figures into the run folder
    (layout, presets, resume, fine-tuning and the mean-image plateau: docs/training.md). Ctrl-C or
    SIGTERM saves the step reached and exits 130 / 143 (continue with --resume)."""
    from nar_solver.cli._outputs import check_outputs
    from nar_solver.distributed import DistContext
    from nar_solver.run.folder import RunFolder
    from nar_solver.train import TrainConfig
    from nar_solver.train.loop import train_run

    if (out is None) == (resume is None):
        raise NarError("give exactly one of --out DIR (new run) or --resume DIR")
    if resume is not None:
        if preset is not None or config_file is not None:
            raise NarError("--preset and --config cannot be combined with --resume (the run keeps its settings)")
        if init_from is not None:
            raise NarError("--init-from starts a new run: give it with --out, not --resume")
        RunFolder(resume).check_resumable()  # first: a shipped model lacks train_state.pt; say --init-from
        check_outputs([], folders=[resume])  # never a shipped folder; the run is its own input
        result = train_run(options, resume, resume=True, progress=progress, figures=figures, tensorboard=tensorboard)
    else:
        if preset is not None and config_file is not None:
            raise NarError("give --preset or --config, not both (a config file holds every setting it needs)")
        config = init_config(init_from, preset, config_file, options) if init_from is not None else \
            new_config(preset, config_file, options)
        data = None if config.is_builtin_data else config.data
        check_outputs([], inputs=[data, init_from, config_file], folders=[out])
        result = train_run(config, out, resume=False, progress=progress, figures=figures, tensorboard=tensorboard)
    if DistContext.from_env().is_main:
        print_summary(result.path)
    if result.signal is not None:
        click.get_current_context().exit(result.exit_code)


def new_config(preset: str | None, config_file: Path | None, options: dict):
    """A new run's config: a config file's or a preset's settings, with ``options`` on top."""
    from nar_solver.run.config import TrainConfig

    return (TrainConfig.from_file(config_file, **options) if config_file is not None
            else TrainConfig.from_preset(preset, **options))


def init_config(init_from: Path, preset: str | None, config_file: Path | None, options: dict):
    """The config of a run fine-tuned from ``init_from``: a preset's or a config file's settings
    when given, else the source run's (its step count included), with ``options`` on top; it
    records where it started."""
    from nar_solver.errors import CheckpointError
    from nar_solver.run.config import TrainConfig
    from nar_solver.run.folder import RunFolder, check_config_file

    source = RunFolder(init_from)
    if not source.path.is_dir():
        raise CheckpointError("--init-from: no such run folder", source.path)
    check_config_file(source.config)
    if not source.weights.is_file():
        raise CheckpointError("--init-from: no model.safetensors in this run folder", source.path)
    if preset is not None or config_file is not None:
        base = new_config(preset, config_file, options)
    else:
        stored = TrainConfig.load(source.config).to_json()
        stored.pop("init_from", None)
        base = TrainConfig.from_json({**stored, **{k: v for k, v in options.items() if v is not None}}, "options")
    return base.replace(init_from=str(source.path.resolve())).resolve()


def spread_share(spread: float) -> str:
    """The reconstructions' spread as a share of the inputs' that says something at every size:
    "12%", "0.4%", "under 0.1%" (never "0.00")."""
    if spread < 0.001:
        return "under 0.1%"
    return f"{spread:.0%}" if spread >= 0.1 else f"{spread:.1%}"


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
        console.print(f"[yellow]warning:[/] the reconstructions are still close to the mean image (their "
                      f"spread across images is {spread_share(spread)} of the inputs'): the mean-image plateau of "
                      "docs/training.md; "
                      f"train longer with --resume {s['run']} --steps N, or see --tc-warmup there",
                      soft_wrap=True)
