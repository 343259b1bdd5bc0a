"""The rich console commands print their tables to."""
from __future__ import annotations

#: Columns a table may use when stdout is a file or a pipe: rich's 80 would cut the headers of the
#: wider tables (metrics' per-factor table needs about 110) and nothing there wraps lines anyway.
PIPE_WIDTH = 160


def stdout_console():
    """A rich Console on stdout: the terminal's width on a terminal, :data:`PIPE_WIDTH` otherwise."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, PIPE_WIDTH)
    return console
