"""``train --tensorboard``: the run's scalars, reconstructions and traversals for TensorBoard.

Events go to ``<run>/tensorboard/`` through torch's ``torch.utils.tensorboard.SummaryWriter``
(view them with ``tensorboard --logdir <run>/tensorboard``): every loss-log row as scalars
(``loss/recon``, ``loss/kl``, ...) at its step, and at every checkpoint the reconstruction grid of
the run's fixed images and a latent traversal of the first one, as images. The ``tensorboard``
package is an optional extra: ``pip install 'nar-solver[tensorboard]'``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from nar_solver.errors import NarError

TENSORBOARD_DIR = "tensorboard"
#: Images in the logged reconstruction grid.
IMAGES = 8
MISSING = ("--tensorboard needs the tensorboard package, which is not installed: "
           "pip install 'nar-solver[tensorboard]' (or pip install tensorboard)")


def require_tensorboard():
    """torch's SummaryWriter class, or a one-line NarError when the tensorboard package is missing."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except (ImportError, ModuleNotFoundError):
        raise NarError(MISSING) from None
    return SummaryWriter


class TensorBoardLogger:
    """Writes one run's events; ``close`` flushes them."""

    def __init__(self, run: str | Path):
        writer = require_tensorboard()
        self.folder = Path(run) / TENSORBOARD_DIR
        self.writer = writer(log_dir=str(self.folder))

    def scalars(self, row: dict[str, Any]) -> None:
        """One loss-log row: every numeric field but the step, as ``loss/<name>`` at its step."""
        step = int(row["step"])
        for name, value in row.items():
            if name != "step" and isinstance(value, (int, float)) and not isinstance(value, bool):
                self.writer.add_scalar(f"loss/{name}" if name != "seconds" else "time/seconds", value, step)
        self.writer.flush()

    @torch.no_grad()
    def images(self, vae, sample: np.ndarray, step: int, device) -> None:
        """Inputs over reconstructions, and a traversal of the first input (one row per dimension)."""
        from nar_solver.figures import tile_grid
        from nar_solver.model.images import ink_to_grey, to_ink
        from nar_solver.model.traversal import sweep_values, traverse

        was_training = vae.training
        vae.eval()
        images = np.asarray(sample[:IMAGES])
        mu, _ = vae.encode(to_ink(images, device))
        recon = ink_to_grey(torch.sigmoid(vae.decode(mu).float()))
        grid = tile_grid(np.stack([images, recon]))
        self.writer.add_image("reconstructions", grid, step, dataformats="HW")
        _, sweeps, _ = traverse(vae, images[0], sweep_values(-3.0, 3.0, 7))
        self.writer.add_image("traversal", tile_grid(sweeps), step, dataformats="HW")
        vae.train(was_training)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
