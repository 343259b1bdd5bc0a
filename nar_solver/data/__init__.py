"""Training data: procedural NAR boards and objects, puzzle folders on disk, procedural dSprites.

``make_source(config)`` builds the source a TrainConfig names; ``BatchStream`` turns it into seeded,
endless uint8 batches on the training device.
"""
from __future__ import annotations

from nar_solver.data.sources import BoardsSource, DSpritesSource, FolderSource, ObjectsSource
from nar_solver.data.stream import BatchStream


def make_source(config):
    """The training source a :class:`nar_solver.train.TrainConfig` asks for."""
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


__all__ = ["BatchStream", "BoardsSource", "DSpritesSource", "FolderSource", "ObjectsSource", "make_source"]
