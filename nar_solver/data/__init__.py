"""Ground-truth worlds as uint8 batches: procedural NAR boards and objects, procedural dSprites,
puzzle folders on disk. One world type serves training and the metrics (:mod:`nar_solver.data.factors`).

``make_source(config)`` builds the source a TrainConfig names, ``make_world(name)`` the factor world
a metric measures on; :class:`nar_solver.data.stream.BatchStream` turns a source into seeded,
endless uint8 batches on the training device. Nothing here but the stream needs torch.
"""
from __future__ import annotations

from nar_solver.data.factors import FactorWorld
from nar_solver.data.sources import BoardsSource, DSpritesSource, FolderSource, ObjectsSource
from nar_solver.errors import NarError

#: The factor worlds the disentanglement metrics measure on.
WORLD_NAMES = ("dsprites", "objects")
#: The metrics' objects world: glyphs drawn with the training variation (stroke width, small
#: affine jitter; a bank of variants drawn once from this seed) and moved by a continuous offset of
#: up to this many pixels, so that no two sampled images coincide (docs/metrics.md, "The worlds").
OBJECTS_WORLD_JITTER = 1.0
OBJECTS_WORLD_VARIATION_SEED = 0


def make_source(config):
    """The training source a :class:`nar_solver.run.config.TrainConfig` asks for."""
    jitter = 0.0 if config.jitter is None else config.jitter
    if config.data == "objects":
        return ObjectsSource(jitter, config.jitter_fraction, config.variation, config.training_shapes,
                             seed=config.seed)
    if config.data == "boards":
        return BoardsSource(config.min_objects, config.max_objects, jitter, config.jitter_fraction,
                            config.variation, config.training_shapes, seed=config.seed)
    if config.data == "dsprites":
        return DSpritesSource()
    return FolderSource(config.data)


def make_world(name: str) -> FactorWorld:
    """``"dsprites"`` or ``"objects"`` (every NAR shape on its cell, rendered with nuisance) -> the factor world.

    The objects world has only 180 factor tuples; drawn plainly they are 180 images and every test
    image of a metric is also a training image. Its rendering variation makes each sampled image new.
    """
    if name == "dsprites":
        return DSpritesSource()
    if name == "objects":
        return ObjectsSource(jitter=OBJECTS_WORLD_JITTER, jitter_fraction=1.0, variation=True,
                             seed=OBJECTS_WORLD_VARIATION_SEED)
    raise NarError(f"unknown factor world {name!r}; choose one of {', '.join(WORLD_NAMES)}")


__all__ = ["BoardsSource", "DSpritesSource", "FactorWorld", "FolderSource", "ObjectsSource", "WORLD_NAMES",
           "make_source", "make_world"]
