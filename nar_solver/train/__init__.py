"""Factor-VAE training: ``TrainConfig`` and ``train(config, out_dir, resume=False, progress=True)``.

    from nar_solver.train import TrainConfig, train
    run = train(TrainConfig.from_preset("objects", steps=2000), "runs/objects")
"""
from __future__ import annotations

from nar_solver.train.config import PRESETS, TrainConfig

__all__ = ["PRESETS", "TrainConfig", "train"]


def __getattr__(name: str):
    # imported lazily: the loop pulls in the data, model and checkpoint modules, and model.checkpoint
    # itself imports TrainConfig from this package
    if name == "train":
        from nar_solver.train.loop import train

        return train
    raise AttributeError(name)
