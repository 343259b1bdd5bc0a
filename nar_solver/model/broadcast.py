"""The spatial broadcast decoder (Watters, Matthey, Burgess, Lerchner 2019), sized for a CPU.

The decoder tiles z over a grid, appends two fixed coordinate channels (x and y, each spanning
[-1, 1]) and runs stride-1 3x3 convolutions without padding, so no layer sees a padded border. A
decoder that can read "where" off its coordinate channels has no reason to smear position over
every latent dimension: the paper reports position carried by two axis-aligned, nearly linear
dimensions, with the largest gains on images of small objects such as ours.

Two choices keep it affordable on a CPU:

- The first convolution sees the tiled z and the coordinates. Because z is the same at every
  pixel and the convolution has no padding, its response is exactly ``A z`` (one vector per image,
  ``A`` the kernel summed over its window) plus a fixed map of the coordinates. It is computed that
  way: the same function as convolving the tiled tensor, at a fraction of the cost.
- The convolutions run at ``grid`` x ``grid`` (32 by default) and transposed 4x4 stride-2
  convolutions bring the logits up to 64 x 64. At full resolution with 64 channels the decoder
  would need ~20x the FLOPs of the deconvolution decoder (docs/training.md measures the variants).
"""
from __future__ import annotations

import torch
from torch import nn

from nar_solver.model.images import IMAGE_SIZE

#: Valid 3x3 convolutions after tiling; the grid is tiled (grid + 2 * LAYERS) wide so the last
#: one ends exactly at grid x grid.
LAYERS = 4


def coordinate_channels(size: int) -> torch.Tensor:
    """(1, 2, size, size): x (columns, left to right) then y (rows, top to bottom), in [-1, 1]."""
    ramp = torch.linspace(-1.0, 1.0, size)
    return torch.stack([ramp.view(1, size).expand(size, size), ramp.view(size, 1).expand(size, size)])[None]


class SpatialBroadcastDecoder(nn.Module):
    """z (N, z_dim) -> Bernoulli logits (N, 1, 64, 64)."""

    def __init__(self, z_dim: int, grid: int = 32, channels: int = 32):
        super().__init__()
        if grid not in (16, 32, 64):
            raise ValueError(f"grid must be 16, 32 or 64, got {grid}")
        self.grid = grid
        tiled = grid + 2 * LAYERS
        self.register_buffer("coords", coordinate_channels(tiled), persistent=False)
        # the first convolution, split into its z part and its coordinate part (module docstring)
        self.from_z = nn.Linear(z_dim, channels, bias=False)
        self.from_coords = nn.Conv2d(2, channels, 3)
        self.convs = nn.Sequential(*[
            layer for _ in range(LAYERS - 1) for layer in (nn.Conv2d(channels, channels, 3), nn.ReLU(inplace=True))
        ])
        upsampling: list[nn.Module] = []
        size = grid
        while size < IMAGE_SIZE // 2:
            upsampling += [nn.ConvTranspose2d(channels, channels, 4, 2, 1), nn.ReLU(inplace=True)]
            size *= 2
        upsampling.append(nn.ConvTranspose2d(channels, 1, 4, 2, 1) if size < IMAGE_SIZE else nn.Conv2d(channels, 1, 1))
        self.to_logits = nn.Sequential(*upsampling)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        coords = self.from_coords(self.coords.to(z.dtype))                       # (1, C, s, s)
        h = torch.relu(self.from_z(z)[:, :, None, None] + coords)                # (N, C, s, s)
        return self.to_logits(self.convs(h))
