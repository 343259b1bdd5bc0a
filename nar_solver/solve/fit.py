"""Does a model fit the manifold it is given? A board model on an object manifold (or an object
model on the board manifold) runs, but its codes describe other images than the solver feeds it.

The check reads config.json's ``data``: ``boards`` and puzzle folders (whole puzzle PNGs) are board
images; ``objects`` and ``dsprites`` are single objects. The object manifolds (``objects-xy``,
``objects``) expect an object model, ``board`` a board model (docs/solver.md, "The pipeline").
"""
from __future__ import annotations

#: What each kind of training data shows.
BOARD_DATA = ("boards",)
OBJECT_DATA = ("objects", "dsprites")


def data_kind(data: str | None) -> str | None:
    """'board', 'object' or None (unknown) for a config's ``data`` value; any other value is a
    folder of puzzle PNGs, hence boards."""
    if data is None:
        return None
    if data in OBJECT_DATA:
        return "object"
    return "board"


def fit_problem(manifold_kind: str, data: str | None) -> str | None:
    """A one-line description of the mismatch between a manifold kind and the model's training
    data, or None when they fit (or the data is not recorded)."""
    trained = data_kind(data)
    if trained is None:
        return None
    wanted = "board" if manifold_kind == "board" else "object"
    if trained == wanted:
        return None
    preset = "boards" if wanted == "board" else "objects"
    return (f"the model was trained on {data!r} ({trained} images) but --manifold {manifold_kind} "
            f"needs a model of {wanted} images (nar-solver train --preset {preset})")
