"""Factor-VAE training: ``train(config, out_dir, resume=False, progress=True)`` into a run folder.

    from nar_solver.train import TrainConfig, train
    run = train(TrainConfig.from_preset("objects", steps=2000), "runs/objects")

``TrainConfig`` lives with the run folder it is written to (:mod:`nar_solver.run.config`).
"""
from __future__ import annotations

from nar_solver.run.config import PRESETS, TrainConfig
from nar_solver.train.loop import train

__all__ = ["PRESETS", "TrainConfig", "train"]
