"""The `nar-solver` console script: a thin shell over the library.

Each command lives in its own module of this package and is registered below. Commands parse
options, call the library and print with rich; they hold no logic a user could not call from Python.
User-facing problems (:class:`nar_solver.errors.NarError`, and any OSError that escapes) become one
line and an exit code here, in one place; ``--debug`` shows the traceback instead.
"""
from __future__ import annotations

import sys

import click

from nar_solver.errors import NarError, from_os_error


class _NarGroup(click.Group):
    """A click group that turns NarError into one line on stderr and the error's exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (NarError, OSError) as err:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            # an OSError no loader or writer turned into a NarError (e.g. a figure's folder is not
            # writable) still names its file and gets one line
            problem = err if isinstance(err, NarError) else from_os_error(err)
            click.echo(f"error: {problem}", err=True)
            ctx.exit(problem.exit_code)


@click.group(cls=_NarGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.version_option(package_name="nar-solver")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Solve NAR visual analogy puzzles with a Factor-VAE latent space and a genetic search."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _register() -> None:
    """Attach every command module; each defines a click command named ``command``."""
    import importlib

    for name in ("generate", "train", "plot", "traverse", "solve", "evaluate", "tune", "metrics", "probe"):
        main.add_command(importlib.import_module(f"nar_solver.cli.{name}").command)


_register()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
