"""Where commands write when the user names no output: ``runs/<command>-<name>/`` under the
current folder, never into a model's run folder (the shipped models under checkpoints/ stay as
they were committed) and never loose in the current folder."""
from __future__ import annotations

import re
from pathlib import Path

#: The folder that collects every command's default outputs.
RUNS = Path("runs")


def output_name(source: str | Path) -> str:
    """A folder-name-safe name for ``source``: its last path part (``checkpoints/objects`` ->
    ``objects``; a file loses its suffix)."""
    path = Path(source)
    name = path.stem if path.suffix and not path.is_dir() else path.name
    if not name or name in (".", ".."):
        name = Path.cwd().name if Path(source).resolve() == Path.cwd() else path.resolve().name
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) or "output"


def default_folder(command: str, source: str | Path) -> Path:
    """``runs/<command>-<name of source>``."""
    return RUNS / f"{command}-{output_name(source)}"
