"""Where the shipped models live, wherever nar-solver is installed.

The repository keeps them in ``checkpoints/objects`` and ``checkpoints/boards``; setup.py ships that
folder as the package data folder ``nar_solver/checkpoints`` of a wheel (or a ``pip install .``).
:func:`shipped_models` finds either, in that order.
"""
from __future__ import annotations

from pathlib import Path

import nar_solver
from nar_solver.errors import CheckpointError
from nar_solver.run.folder import RunFolder

#: The shipped run folder of each preset: objects (the object-level VAE that codes shape for
#: objects-xy), objects-broadcast (the spatial broadcast object VAE the pure latent manifold
#: searches), objects-whatwhere (the what/where object VAE whose decoded glyphs keep their identity,
#: docs/training.md), boards (whole boards, deconvolution decoder), boards-broadcast (whole boards,
#: spatial broadcast decoder: the one the board manifold searches) and dsprites-factorvae (the best run
#: of the dSprites reproduction of Kim & Mnih 2018, README "Reproducing Kim & Mnih on dSprites").
SHIPPED: dict[str, str] = {"objects": "objects", "objects-broadcast": "objects-broadcast",
                           "objects-whatwhere": "objects-whatwhere", "boards": "boards",
                           "boards-broadcast": "boards-broadcast", "dsprites-factorvae": "dsprites-factorvae"}


def shipped_models() -> Path:
    """The folder holding the shipped models: the package data folder ``nar_solver/checkpoints`` of
    an installed wheel, else the ``checkpoints/`` of the source checkout that an editable install (or
    ``python -m nar_solver`` in the repository) runs from; the former when neither holds a model."""
    package = Path(nar_solver.__file__).resolve().parent
    installed, checkout = package / "checkpoints", package.parent / "checkpoints"
    for folder in (installed, checkout):
        if any(RunFolder(folder / name).config.is_file() for name in SHIPPED.values()):
            return folder
    return installed


def shipped_folder(preset: str) -> Path:
    """The folder the shipped model of ``preset`` (objects | boards) is kept in, whether or not it is there."""
    return shipped_models() / SHIPPED[preset]


def shipped_model(preset: str, what: str) -> Path:
    """The shipped run folder of ``preset``; a one-line CheckpointError, saying how to get one, when
    it holds no model (``what`` names the model in that message)."""
    folder = shipped_folder(preset)
    if not RunFolder(folder).config.is_file():
        raise CheckpointError(f"no shipped {what} model here; train one (nar-solver train --preset {preset}) "
                              "or pass --checkpoint DIR", folder)
    return folder
