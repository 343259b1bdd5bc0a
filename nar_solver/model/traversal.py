"""Latent traversals: decode an image's code with one dimension swept at a time."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from nar_solver.errors import NarError
from nar_solver.model.images import ink_to_grey, to_ink
from nar_solver.model.vae import FactorVAE
from nar_solver.world.board import IMAGE_SIZE

TRAVERSAL_MODES = ("offset", "absolute")


@torch.no_grad()
def traverse(vae: FactorVAE, image: np.ndarray, values: Sequence[float], dims: Sequence[int] | None = None,
             mode: str = "offset") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sweep each of ``dims`` over ``values`` around the image's posterior mean.

    ``mode="offset"`` adds each value to the dimension's mean (offset 0 is the unperturbed code);
    ``"absolute"`` sets the dimension to the value. Returns (reconstruction (64,64), sweeps
    (len(dims), len(values), 64, 64), the posterior mean (z,)), images as uint8 grey.
    """
    if mode not in TRAVERSAL_MODES:
        raise NarError(f"traversal mode must be one of {', '.join(TRAVERSAL_MODES)}, got {mode!r}")
    dims = list(range(vae.z_dim)) if dims is None else [int(d) for d in dims]
    bad = [d for d in dims if not 0 <= d < vae.z_dim]
    if bad:
        raise NarError(f"--dims {bad}: the model has dimensions 0..{vae.z_dim - 1}")
    device = next(vae.parameters()).device
    vae.eval()
    mu, _ = vae.encode(to_ink(np.asarray(image)[None], device))
    mu = mu.float()[0]
    recon = ink_to_grey(torch.sigmoid(vae.decode(mu[None]).float()))[0]
    value_t = torch.tensor([float(v) for v in values], device=device, dtype=mu.dtype)
    codes = mu.repeat(len(dims), len(values), 1)
    for row, d in enumerate(dims):
        codes[row, :, d] = (mu[d] + value_t) if mode == "offset" else value_t
    logits = vae.decode(codes.view(-1, vae.z_dim)).float()
    sweeps = ink_to_grey(torch.sigmoid(logits)).reshape(len(dims), len(values), IMAGE_SIZE, IMAGE_SIZE)
    return recon, sweeps, mu.cpu().numpy()


def sweep_values(start: float, stop: float, steps: int) -> list[float]:
    """``steps`` evenly spaced values from start to stop inclusive, rounded to kill float dust (0.1*3)."""
    if steps < 1:
        raise NarError(f"--steps must be >= 1, got {steps}")
    if not (np.isfinite(start) and np.isfinite(stop)):
        raise NarError(f"--from and --to must be finite numbers, got {start} and {stop}")
    if steps == 1:
        return [float(start)]
    return [round(float(v), 10) for v in np.linspace(start, stop, steps)]

