"""The training loop: run folder, resume, periodic atomic checkpoints, Ctrl-C, progress, DDP."""
from __future__ import annotations

import contextlib
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch

from nar_solver.data import make_source
from nar_solver.data.stream import BatchStream
from nar_solver.device import auto_threads, configure_backend, resolve_device
from nar_solver.distributed import DistContext, fingerprint, fingerprint_tensor
from nar_solver.errors import NarError, RunFailure
from nar_solver.io import atomic_write_json
from nar_solver.model.images import to_ink
from nar_solver.run.checkpoint import (STATE_FORMAT, check_state_matches, latent_range, load_model, load_train_state,
                                       save_model, save_train_state)
from nar_solver.run.config import TrainConfig
from nar_solver.run.folder import RunFolder
from nar_solver.run.lock import run_lock
from nar_solver.seeding import seed_everything
from nar_solver.train.report import write_figures
from nar_solver.train.runlog import LossLog
from nar_solver.train.step import STAT_NAMES, FactorVAETrainer, derived_seed

@dataclass
class TrainResult:
    """Where a training run went, and the signal that stopped it early (None: it ran to the end)."""

    path: Path
    signal: int | None = None

    @property
    def exit_code(self) -> int:
        """0, or 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM), as evaluate and tune."""
        return 0 if self.signal is None else 128 + self.signal


def train(config: TrainConfig | Mapping[str, Any] | None, out_dir: str | Path, resume: bool = False,
          progress: bool = True, figures: bool = True, console=None, tensorboard: bool = False) -> Path:
    """Train a Factor-VAE into the run folder ``out_dir``; return its path (see :func:`train_run`)."""
    return train_run(config, out_dir, resume, progress, figures, console, tensorboard).path


def train_run(config: TrainConfig | Mapping[str, Any] | None, out_dir: str | Path, resume: bool = False,
              progress: bool = True, figures: bool = True, console=None, tensorboard: bool = False) -> TrainResult:
    """Train a Factor-VAE into the run folder ``out_dir``.

    ``resume=True`` continues the run saved in ``out_dir`` exactly (same batches, same random
    draws) up to ``config.steps``; ``config`` may then be None (use the stored one), or a config
    or a mapping of options (None: keep) that differs from it only in
    :data:`nar_solver.run.config.RESUMABLE_FIELDS`. Ctrl-C (SIGINT) or SIGTERM saves and returns early.
    Under torchrun this process is one rank of a DistributedDataParallel job. ``tensorboard``
    also writes events to ``<run>/tensorboard/`` (:mod:`nar_solver.train.tensorboard`).

    Resuming needs ``train_state.pt`` (a folder with weights only, like the shipped models, can be
    fine-tuned instead: a new run whose config names it in ``init_from``). It refuses a config.json
    edited since the state was saved in a setting that changes the model, and a ``steps`` below
    the steps already trained.
    """
    if tensorboard:
        from nar_solver.train.tensorboard import require_tensorboard

        require_tensorboard()  # a missing optional extra fails before anything is written
    ctx = DistContext.from_env()
    run = RunFolder(out_dir)
    if resume:
        run.check_resumable()
    else:
        if not isinstance(config, TrainConfig):
            raise NarError("train() needs a TrainConfig for a new run")
        config = config.resolve()
        run.check_new()
    # one writer per run folder (rank 0 writes it under torchrun): the second trainer is refused
    with run_lock(run.path) if ctx.is_main else contextlib.nullcontext():
        return _train_locked(config, run, resume, ctx, progress, figures, console, tensorboard)


def _train_locked(config, run: RunFolder, resume: bool, ctx: DistContext, progress: bool, figures: bool, console,
                  tensorboard: bool) -> TrainResult:
    """:func:`train` once the run folder is this process's: read what a resume continues from
    (under the lock, so no other trainer changes it meanwhile), then train."""
    state = None
    if resume:
        state = load_train_state(run.path)
        stored = TrainConfig.load(run.config)
        check_state_matches(state, stored, run.state)
        config = stored.resumed_with(config)
        if config.steps < state["step"]:
            raise NarError(f"--steps {config.steps} is below the {state['step']} steps this run has already "
                           f"trained; give --steps {state['step']} or more", run.path)
    elif ctx.is_main:
        run.check_new()  # again under the lock: another trainer may have started here meanwhile

    device = ctx.device_for(resolve_device(config.device))
    configure_backend(device, config.threads or auto_threads(ctx.world_size))
    with ctx.process_group(device):
        return _train(config, run, state, ctx, device, progress, figures, console, tensorboard)


def _train(config: TrainConfig, run: RunFolder, state: dict[str, Any] | None, ctx: DistContext,
           device: torch.device, progress: bool, figures: bool, console, tensorboard: bool = False) -> TrainResult:
    source = make_source(config)  # first: a bad --data fails before any model is built
    seed_everything(config.seed)
    trainer = FactorVAETrainer(config, device, ctx.rank, ctx.world_size)
    if state is None and config.init_from:
        _init_from(trainer, config)
    stream = BatchStream(source, config.seed, ctx.rank, 2 if trainer.uses_second_batch else 1, device)
    log = LossLog(device, trainer.disc is not None)
    step, elapsed, last_saved = 0, 0.0, None
    if state is not None:
        step, elapsed, last_saved = _restore(trainer, log, run, state, ctx, config)
    if ctx.is_main:
        run.clean_temporaries()
        run.write_config(config)
        run.write_losses(log.rows)  # the rows up to the saved step (none for a new run); appended from here
    ctx.barrier()
    sample = stream.sample(config.latent_sample)  # fixed images for the latent range and the figures
    board = None
    if tensorboard and ctx.is_main:
        from nar_solver.train.tensorboard import TensorBoardLogger

        board = TensorBoardLogger(run.path)
    timing = {"data_s": 0.0, "step_s": 0.0, "steps": 0,
              "threads": torch.get_num_threads() if device.type == "cpu" else 0}

    def save() -> None:
        nonlocal last_saved
        _check_window_finite(log, ctx, step, last_saved, run)
        generators = [g.cpu() for g in ctx.gather_bytes(trainer.generator.get_state().to(device))]
        prints = _gather_fingerprints(trainer, ctx, device)
        if ctx.is_main:
            if len(set(prints)) > 1:
                raise RunFailure(f"ranks' weights diverged at step {step} (fingerprints {prints}); "
                                 f"last good checkpoint (step {last_saved}) kept", run.path)
            low, high = latent_range(trainer.latent_means(to_ink(sample)))
            run.sync_losses()  # every row up to this step is on disk before the state commits it
            save_model(run.path, trainer.vae, low, high, step)
            save_train_state(run.path, {
                "format": STATE_FORMAT, "step": step, "elapsed": elapsed_now(),
                "config": config.to_json(), "trainer": trainer.state_dict(), "generators": generators,
                "log": log.state_dict(), "world_size": ctx.world_size,
                "timing": {k: float(v) for k, v in timing.items()},
            })
            if board is not None:
                board.images(trainer.vae, sample, step, device)
            if ctx.enabled:
                atomic_write_json(run.ddp, {"world_size": ctx.world_size, "step": step,
                                                        "fingerprints": prints, "identical": len(set(prints)) == 1})
        ctx.barrier()
        last_saved = step

    session_start = time.perf_counter()

    def elapsed_now() -> float:
        return elapsed + time.perf_counter() - session_start

    view = _ProgressView(config, ctx, step, console) if progress and ctx.is_main else None
    interrupted = False
    with _StopOnSignal() as stopper, (view or contextlib.nullcontext()), _closing(board):
        while step < config.steps:
            t0 = time.perf_counter()
            x1 = trainer.prepare(to_ink(stream.batch(step, 0, config.batch_size), device))
            x2 = (trainer.prepare(to_ink(stream.batch(step, 1, config.batch_size), device))
                  if trainer.uses_second_batch else None)
            t1 = time.perf_counter()
            log.add(trainer.step(x1, x2, step))
            step += 1
            timing["data_s"] += t1 - t0
            timing["step_s"] += time.perf_counter() - t1
            timing["steps"] += 1
            stop = ctx.any(stopper.requested, device)
            if step % config.log_every == 0:
                row = log.flush(step, elapsed_now(), ctx.mean)
                bad = LossLog.non_finite(row)
                if bad:
                    raise _non_finite_failure(bad, step - config.log_every + 1, step, last_saved, run)
                if ctx.is_main:
                    run.append_loss(row)
                    if board is not None:
                        board.scalars(row)
                if view is not None:
                    view.row(row)
            if view is not None:
                view.advance(step)
            if step % config.save_every == 0 or step == config.steps or stop:
                save()
            if stop:
                interrupted = True
                break
    if ctx.is_main and figures and last_saved is not None:
        write_figures(run.path, trainer.vae, sample, log.rows, device)
    if ctx.is_main and view is not None and interrupted:
        view.console.print(f"[yellow]interrupted: saved step {step}; continue with --resume {run.path}")
    return TrainResult(run.path, stopper.signal if interrupted else None)


def _init_from(trainer: FactorVAETrainer, config: TrainConfig) -> None:
    """Start from the VAE weights of the run ``config.init_from`` (fine-tuning; the optimisers, the
    discriminator and the step count start afresh). Its architecture and z_dim must be this run's."""
    source = load_model(config.init_from, "cpu")
    differ = [name for name in ("architecture", "z_dim") if getattr(source.config, name) != getattr(config, name)]
    if differ:
        raise NarError(f"--init-from: its {', '.join(differ)} differ from this run's "
                       f"({', '.join(f'{getattr(source.config, n)} vs {getattr(config, n)}' for n in differ)})",
                       config.init_from)
    trainer.vae.load_state_dict(source.vae.state_dict())


@contextlib.contextmanager
def _closing(board):
    """Close the TensorBoard writer (flushing its events) however the loop ends."""
    try:
        yield board
    finally:
        if board is not None:
            board.close()


def _restore(trainer: FactorVAETrainer, log: LossLog, run: RunFolder, state: dict[str, Any], ctx: DistContext,
             config: TrainConfig) -> tuple[int, float, int]:
    step = int(state["step"])
    generators = state.get("generators") or []
    if len(generators) == ctx.world_size:
        generator = generators[ctx.rank]
    else:  # another world size: valid but not bit-identical; give each rank a fresh stream
        generator = torch.Generator(device=trainer.device)
        generator.manual_seed(derived_seed(config.seed, ctx.rank, step, 0x6E7))
        generator = generator.get_state()
    rows = run.read_losses(up_to_step=step)  # its own errors name losses.jsonl, not the state
    try:
        trainer.load_state_dict(state["trainer"], generator)
        log.load_state_dict(state["log"], rows)
    except (KeyError, RuntimeError, ValueError, TypeError) as err:
        raise NarError(f"train state does not match config.json ({err.__class__.__name__}: "
                       f"{str(err).splitlines()[0][:120]})", run.state) from None
    return step, float(state.get("elapsed", 0.0)), step


def _gather_fingerprints(trainer: FactorVAETrainer, ctx: DistContext, device: torch.device) -> list[str]:
    if not ctx.enabled:
        return []
    mine = fingerprint_tensor(fingerprint(trainer.vae, trainer.disc), device)
    return [bytes(t.cpu().tolist()).hex() for t in ctx.gather_bytes(mine)]


def _check_window_finite(log: LossLog, ctx: DistContext, step: int, last_saved: int | None, run: RunFolder) -> None:
    sums = ctx.mean(log.sums)
    if log.count and not bool(torch.isfinite(sums).all()):
        bad = [n for n, v in zip(STAT_NAMES, sums.tolist()) if v != v or v in (float("inf"), float("-inf"))]
        raise _non_finite_failure(bad, step - log.count + 1, step, last_saved, run)


def _non_finite_failure(names: list[str], first: int, last: int, last_saved: int | None, run: RunFolder) -> RunFailure:
    kept = (f"last good checkpoint (step {last_saved}) kept" if last_saved is not None
            else "no checkpoint had been saved yet")
    where = f"at step {last}" if first == last else f"between steps {first} and {last}"
    return RunFailure(f"non-finite {', '.join(names)} {where}; training stopped, {kept} "
                      "(try a lower --lr or --gamma)", run.path)


class _StopOnSignal:
    """First Ctrl-C / SIGTERM: finish the step, save, return. Second Ctrl-C: abort at once."""

    def __init__(self):
        self.requested = False
        self.signal: int | None = None  # the first stop signal
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "_StopOnSignal":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True
        self.signal = self.signal or int(signum)

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class _ProgressView:
    """A rich progress bar: step, images/s and the latest window's losses."""

    def __init__(self, config: TrainConfig, ctx: DistContext, start_step: int, console=None):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
            TimeRemainingColumn

        self.console = console or Console(stderr=True)
        self.images_per_step = config.batch_size * ctx.world_size * (2 if config.tc == "discriminator" else 1)
        from rich.table import Column

        # Step and ETA first and never cut; the bar is short; the losses take what is left of the line
        # and are the part cut (with an ellipsis) on a narrow terminal (80 columns).
        keep = lambda: Column(no_wrap=True)  # noqa: E731 - a one-line local helper
        self.progress = Progress(
            TextColumn("[bold]train", table_column=keep()), MofNCompleteColumn(table_column=keep()),
            TextColumn("eta", table_column=keep()), TimeRemainingColumn(table_column=keep()),
            BarColumn(bar_width=12, table_column=keep()), TimeElapsedColumn(table_column=keep()),
            TextColumn("{task.fields[rate]}", table_column=keep()),
            TextColumn("{task.fields[losses]}", table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1)),
            console=self.console, transient=False, refresh_per_second=4, expand=True,
        )
        self.task = self.progress.add_task("train", total=config.steps, completed=start_step, rate="", losses="")
        self._last = (time.perf_counter(), start_step)

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def advance(self, step: int) -> None:
        self.progress.update(self.task, completed=step)

    def row(self, row: dict[str, Any]) -> None:
        now = time.perf_counter()
        then, step0 = self._last
        rate = (row["step"] - step0) * self.images_per_step / max(now - then, 1e-9)
        self._last = (now, row["step"])
        parts = [f"recon {row['recon']:.1f}", f"kl {row['kl']:.2f}", f"tc {row['tc']:.2f}"]
        if row.get("d_loss") is not None:
            parts += [f"D {row['d_loss']:.3f}", f"acc {row['d_acc']:.2f}"]
        self.progress.update(self.task, rate=f"{rate:,.0f} img/s", losses="  ".join(parts))
