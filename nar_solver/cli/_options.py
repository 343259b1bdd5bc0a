"""Options that mean one thing on every command, and renamed spellings kept as deprecated aliases.

- ``--threads N``: torch's CPU threads, on every command that computes. Default 1 (the GA's small
  batched work was fastest on one thread, bench/solve_threads.py; more cores help training:
  docs/training.md); 0 = every core not busy at start; more than this machine's cores is a
  one-line error.
- ``--device``: ``auto`` (CUDA when available) everywhere.
- :class:`RenamingCommand`: a command whose old option spellings still work, with a warning on
  stderr (``--plot`` of tune is ``--figure`` now, ``--strict`` is ``--strict-model`` plus
  ``--stop-on-unreadable``, ``--fast`` of metrics is ``--preset fast``).
"""
from __future__ import annotations

from typing import Callable

import click

from nar_solver.cores import available_cores
from nar_solver.errors import NarError

#: torch CPU threads of every computing command unless --threads says otherwise.
DEFAULT_THREADS = 1
DEVICE_HELP = "auto | cpu | cuda | cuda:N (auto = CUDA when available)."


def check_threads(ctx: click.Context | None, param: click.Parameter | None, value: int | None) -> int | None:
    """``value`` if it is 0 or within this machine's cores; a one-line error otherwise."""
    if value is None:
        return None
    if value < 0:
        raise NarError(f"--threads must be 0 (every idle core) or a count of cores, got {value}")
    cores = available_cores()
    if value > cores:
        raise NarError(f"--threads {value} is more than the {cores} CPU core(s) this process may use")
    return value


def threads_option(func: Callable) -> Callable:
    """``--threads N`` (passed as ``threads``), default 1, bounded by the core count."""
    return click.option("--threads", type=int, default=DEFAULT_THREADS, show_default=True, callback=check_threads,
                        help="CPU threads for torch (0 = every core not busy at start; at most this "
                             "machine's cores).")(func)


def device_option(func: Callable) -> Callable:
    """``--device`` (passed as ``device``), default auto."""
    return click.option("--device", default="auto", show_default=True, help=DEVICE_HELP)(func)


class RenamingCommand(click.Command):
    """A click command that accepts renamed option spellings, each with a warning on stderr.

    ``renamed`` maps an old spelling to the arguments that replace it: ``{"--plot": ("--figure",)}``
    (an option with a value keeps its value), ``{"--fast": ("--preset", "fast")}`` (a flag turned
    into an option and value) or ``{"--strict": ("--strict-model", "--stop-on-unreadable")}``.
    The old spellings are not listed in --help."""

    def __init__(self, *args, renamed: dict[str, tuple[str, ...]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.renamed = dict(renamed or {})

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        out: list[str] = []
        for i, arg in enumerate(args):
            if arg == "--":
                out.extend(args[i:])
                break
            old, eq, value = arg.partition("=")
            new = self.renamed.get(old)
            if new is None:
                out.append(arg)
                continue
            click.echo(f"warning: {old} is deprecated; use {' '.join(new)}", err=True)
            out.extend(new[:-1])
            out.append(f"{new[-1]}={value}" if eq else new[-1])
        return super().parse_args(ctx, out)
