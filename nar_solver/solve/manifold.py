"""The latent manifold the solver searches: encode boards' objects, perturb codes, decode, composite.

Two kinds:

- ``objects`` (default): every object of a board is encoded on its own, as a single-object board,
  by the object-level Factor-VAE. A program acts on every object the same way, so one perturbation
  applied to every object's code can express it.
- ``board``: the seed study's design, one code per whole board (its board-level VAE).

Codes are handled in *normalised* coordinates: each usable ("active") latent dimension is mapped
to [0, 1] by the range the encoder produces on training data (``latent_low``/``latent_high``,
stored with the checkpoint). Clipping a perturbed code to [0, 1] then keeps it inside what the
decoder has seen; with a disentangled position axis that reproduces the clamped shift at the board
edge. Collapsed dimensions (a near-zero range: the posterior ignores the input there) are left out
of the search and decoded at their centre.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

import nar_solver
from nar_solver.errors import CheckpointError, NarError
from nar_solver.solve.perception import IMAGE_SIZE, PerceivedObject, _centre, ink_of, split_objects

KINDS: tuple[str, ...] = ("objects", "board")

#: A dimension whose training-data range is below this (in latent units) is treated as collapsed.
ACTIVE_RANGE = 0.1
#: ... or below this fraction of the widest dimension's range.
ACTIVE_FRACTION = 0.1
#: Images per encoder/decoder forward pass (bounds memory, not the number of passes for typical puzzles).
MAX_BATCH = 4096


def default_checkpoint(kind: str) -> Path:
    """Where the shipped model of ``kind`` lives: ``checkpoints/<kind>s`` beside the package."""
    folder = {"objects": "objects", "board": "boards"}[kind]
    return Path(nar_solver.__file__).resolve().parent.parent / "checkpoints" / folder


def active_dimensions(low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """Indices of latent dimensions with a usable range on training data."""
    span = (high - low).float()
    keep = (span >= ACTIVE_RANGE) & (span >= ACTIVE_FRACTION * span.max())
    if not bool(keep.any()):
        keep = span >= span.max()
    return torch.nonzero(keep).flatten()


class LatentManifold:
    """A trained VAE seen as a searchable space of (normalised, active) codes."""

    def __init__(self, vae: torch.nn.Module, latent_low, latent_high, kind: str = "objects",
                 device: str | torch.device = "cpu", perception: str = "auto"):
        if kind not in KINDS:
            raise NarError(f"unknown manifold {kind!r}; choose one of {', '.join(KINDS)}")
        self.kind = kind
        self.device = torch.device(device)
        self.vae = vae.to(self.device).eval()
        self.z_dim = int(vae.z_dim)
        self.low = torch.as_tensor(np.asarray(latent_low), dtype=torch.float32, device=self.device).flatten()
        self.high = torch.as_tensor(np.asarray(latent_high), dtype=torch.float32, device=self.device).flatten()
        if self.low.numel() != self.z_dim or self.high.numel() != self.z_dim:
            raise CheckpointError(f"latent range has {self.low.numel()} dims but the model has {self.z_dim}")
        self.active = active_dimensions(self.low, self.high)
        self.span = (self.high - self.low)[self.active].clamp_min(1e-6)
        self.centre = (self.low + self.high) / 2
        self.perception = perception

    @property
    def dims(self) -> int:
        """Number of searchable (active) dimensions."""
        return int(self.active.numel())

    # -- perception ---------------------------------------------------------------------------

    def split(self, board: np.ndarray) -> list[PerceivedObject]:
        """The units this manifold encodes: the board's objects, or the whole board as one unit."""
        if self.kind == "board":
            board = np.asarray(board)
            ink = ink_of(board)
            return [PerceivedObject(board, None, _centre(ink), float(ink.sum()))]
        return split_objects(board, self.perception)

    # -- codes --------------------------------------------------------------------------------

    def normalise(self, z: torch.Tensor) -> torch.Tensor:
        """Latent codes (N, z_dim) -> normalised active coordinates (N, dims)."""
        return (z[:, self.active] - self.low[self.active]) / self.span

    def latent(self, u: torch.Tensor) -> torch.Tensor:
        """Normalised active coordinates (..., dims) -> full latent codes (..., z_dim)."""
        flat = u.reshape(-1, self.dims)
        z = self.centre.expand(flat.shape[0], self.z_dim).clone()
        z[:, self.active] = self.low[self.active] + flat * self.span
        return z.reshape(*u.shape[:-1], self.z_dim)

    @torch.inference_mode()
    def encode(self, images: np.ndarray | Sequence[np.ndarray]) -> torch.Tensor:
        """uint8 grey images (N, 64, 64) -> normalised codes (N, dims) (posterior means)."""
        from nar_solver.model.images import to_ink

        images = np.asarray(images)
        if images.shape[0] == 0:
            return torch.zeros((0, self.dims), device=self.device)
        parts = []
        for start in range(0, images.shape[0], MAX_BATCH):
            mu, _ = self.vae.encode(to_ink(images[start:start + MAX_BATCH], device=self.device))
            parts.append(self.normalise(mu.float()))
        return torch.cat(parts)

    @torch.inference_mode()
    def decode(self, u: torch.Tensor) -> torch.Tensor:
        """Normalised codes (..., dims) -> ink probabilities (..., 64, 64), in one forward pass
        (split only beyond :data:`MAX_BATCH` codes)."""
        lead = u.shape[:-1]
        z = self.latent(u.to(self.device, torch.float32)).reshape(-1, self.z_dim)
        if z.shape[0] == 0:
            return torch.zeros((*lead, IMAGE_SIZE, IMAGE_SIZE), device=self.device)
        parts = [torch.sigmoid(self.vae.decode(z[s:s + MAX_BATCH]).float())
                 for s in range(0, z.shape[0], MAX_BATCH)]
        return torch.cat(parts)[:, 0].reshape(*lead, IMAGE_SIZE, IMAGE_SIZE)


def load_manifold(checkpoint: str | Path | None = None, kind: str = "objects",
                  device: str | torch.device = "cpu", perception: str = "auto") -> LatentManifold:
    """The manifold of a checkpoint folder (``None``: the shipped model of ``kind``)."""
    from nar_solver.model.checkpoint import load_model

    if kind not in KINDS:
        raise NarError(f"unknown manifold {kind!r}; choose one of {', '.join(KINDS)}")
    if checkpoint is None:
        checkpoint = default_checkpoint(kind)
        if not (checkpoint / "config.json").is_file():
            raise CheckpointError(
                f"no shipped {kind} model here; train one (nar-solver train --preset "
                f"{'objects' if kind == 'objects' else 'boards'}) or pass --checkpoint DIR", checkpoint)
    loaded = load_model(checkpoint, device=device)
    return LatentManifold(loaded.vae, loaded.latent_low, loaded.latent_high, kind=kind, device=device,
                          perception=perception)
