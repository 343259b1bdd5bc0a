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
#: The most values one sweep takes and the most dimensions it sweeps: a traversal is a figure with
#: one column per value and one row per dimension, so both are bounded (``--steps 3000`` once took
#: 16 GB); a fine sweep of 0.01 over [-0.5, 0.5] is 101 values.
MAX_STEPS = 101
MAX_DIMS = 256
#: The largest swept value (--from, --to) in absolute terms.
MAX_VALUE = 1000.0
#: Codes decoded per decoder call: memory stays bounded however many rows and columns are swept.
DECODE_CHUNK = 256


@torch.no_grad()
def decode_in_chunks(vae: FactorVAE, codes: torch.Tensor, chunk: int = DECODE_CHUNK) -> np.ndarray:
    """Decode (N, z) codes ``chunk`` at a time into (N, 64, 64) uint8 grey images."""
    parts = [ink_to_grey(torch.sigmoid(vae.decode(codes[i:i + chunk]).float())) for i in range(0, len(codes), chunk)]
    return np.concatenate(parts) if parts else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)


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
    if len(dims) > MAX_DIMS or len(values) > MAX_STEPS:
        raise NarError(f"a traversal sweeps at most {MAX_DIMS} dimensions over at most {MAX_STEPS} values, "
                       f"got {len(dims)} and {len(values)}")
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
    sweeps = decode_in_chunks(vae, codes.view(-1, vae.z_dim)).reshape(len(dims), len(values), IMAGE_SIZE,
                                                                       IMAGE_SIZE)
    return recon, sweeps, mu.cpu().numpy()


def sweep_values(start: float, stop: float, steps: int) -> list[float]:
    """``steps`` evenly spaced values from start to stop inclusive, rounded to kill float dust (0.1*3)."""
    if not 1 <= steps <= MAX_STEPS:
        raise NarError(f"--steps must be from 1 to {MAX_STEPS}, got {steps}")
    if not (np.isfinite(start) and np.isfinite(stop)):
        raise NarError(f"--from and --to must be finite numbers, got {start} and {stop}")
    if max(abs(start), abs(stop)) > MAX_VALUE:  # beyond it the decoder draws nothing, and +-1e308 overflows
        raise NarError(f"--from and --to must lie within -{MAX_VALUE:g}..{MAX_VALUE:g} (a trained model's codes "
                       f"lie within a few units of 0), got {start:g} and {stop:g}")
    if steps == 1:
        return [float(start)]
    return [round(float(v), 10) for v in np.linspace(start, stop, steps)]

