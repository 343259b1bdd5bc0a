"""Where the shipped models live: ``checkpoints/objects`` and ``checkpoints/boards`` beside the package."""
from __future__ import annotations

from pathlib import Path

import nar_solver
from nar_solver.errors import CheckpointError
from nar_solver.run.folder import RunFolder

#: The shipped run folder of each preset: objects (the object-level VAE) and boards (whole boards).
SHIPPED: dict[str, str] = {"objects": "objects", "boards": "boards"}


def shipped_folder(preset: str) -> Path:
    """The folder the shipped model of ``preset`` (objects | boards) is kept in, whether or not it is there."""
    return Path(nar_solver.__file__).resolve().parent.parent / "checkpoints" / SHIPPED[preset]


def shipped_model(preset: str, what: str) -> Path:
    """The shipped run folder of ``preset``; a one-line CheckpointError, saying how to get one, when
    it holds no model (``what`` names the model in that message)."""
    folder = shipped_folder(preset)
    if not RunFolder(folder).config.is_file():
        raise CheckpointError(f"no shipped {what} model here; train one (nar-solver train --preset {preset}) "
                              "or pass --checkpoint DIR", folder)
    return folder
