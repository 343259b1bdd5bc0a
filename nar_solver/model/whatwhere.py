"""A what/where decoder: draw the glyph on a tile from the "what" dimensions, place it from the "where" ones.

An object image is a glyph at a position. The spatial broadcast decoder (nar_solver.model.broadcast)
learns position well but has to draw every glyph at every position through one small per-pixel
network, and on our 64 x 64 boards most letters (about 8 px tall) came back as the same blob
(docs/training.md, "Decoded glyphs"). This decoder splits the two jobs, as the "what" and "where"
of attend-infer-repeat (Eslami et al. 2016) and spatial transformers (Jaderberg et al. 2015):

- ``what`` = z[:, 2:] goes through the deconvolution stack of the paper's decoder to the logits
  of a ``tile`` x ``tile`` glyph tile (the glyph is drawn the same way wherever it stands);
- ``where`` = z[:, :2] is a translation: the tile's centre in the image's [-1, 1] coordinates,
  x (column) then y (row), read off z as it is (no squashing), so a step along z[:, 0] moves the
  glyph by the same number of pixels everywhere;
- the tile is placed on the 64 x 64 image by bilinear sampling (``grid_sample``) of its logits
  relative to a learned background logit, so outside the tile the image is the background.

The objective is unchanged (Bernoulli reconstruction + KL + gamma TC). A translated tile only gets
a gradient towards the object where the two overlap, so with the usual encoder the first runs
never found the glyphs (reconstruction stuck above the mean image's, 233 nats at step 1,000;
docs/training.md). The encoder's means of z[:, :2] therefore come from :class:`WhereHead`, a
spatial soft-argmax (Levine et al. 2016) of a learned 3x3 response to the image, started as "the
ink": from the first step z[:, :2] points at the object, and the response keeps learning.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nar_solver.model.images import IMAGE_SIZE

#: Dimensions of z read as the translation (x, y); the rest are the "what".
WHERE_DIMS = 2
#: Starting background logit (ink probability ~0.7%): the boards are nearly all background.
BACKGROUND_LOGIT = -5.0


def translation_grid(where: torch.Tensor, tile: int, size: int = IMAGE_SIZE) -> torch.Tensor:
    """(N, size, size, 2) sampling grid that puts a ``tile``-pixel tile centred at ``where`` (N, 2),
    in the image's [-1, 1] coordinates (x, y; align_corners=False), onto a ``size`` image."""
    scale = size / tile
    n = where.shape[0]
    theta = torch.zeros(n, 2, 3, dtype=where.dtype, device=where.device)
    theta[:, 0, 0] = scale
    theta[:, 1, 1] = scale
    theta[:, :, 2] = -scale * where
    return F.affine_grid(theta, [n, 1, size, size], align_corners=False)


def pixel_coordinates(size: int = IMAGE_SIZE) -> torch.Tensor:
    """(size,) centres of the pixels in [-1, 1] (align_corners=False, as :func:`translation_grid`)."""
    return (2 * torch.arange(size, dtype=torch.float32) + 1) / size - 1


class WhereHead(nn.Module):
    """Image (N, 1, 64, 64) -> (N, 2): the expected (x, y) of a softmax over a learned 3x3 response.

    The response starts as ``INK_GAIN`` times the ink (centre tap only), so the softmax puts nearly
    all its mass on ink pixels and the output starts as the ink's centre, in the decoder's
    coordinates.
    """

    INK_GAIN = 10.0

    def __init__(self):
        super().__init__()
        self.response = nn.Conv2d(1, 1, 3, padding=1)
        with torch.no_grad():
            self.response.weight.zero_()
            self.response.weight[0, 0, 1, 1] = self.INK_GAIN
            self.response.bias.zero_()
        self.register_buffer("coords", pixel_coordinates(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        heat = self.response(x.float()).flatten(1)                       # (N, 64 * 64)
        weights = torch.softmax(heat, dim=1).view(x.shape[0], IMAGE_SIZE, IMAGE_SIZE)
        return torch.stack([(weights.sum(1) * self.coords).sum(1), (weights.sum(2) * self.coords).sum(1)], 1)


class WhatWhereDecoder(nn.Module):
    """z (N, z_dim) -> Bernoulli logits (N, 1, 64, 64): a decoded tile moved to z[:, :2]."""

    def __init__(self, z_dim: int, tile: int = 32, width: int = 64):
        super().__init__()
        if z_dim <= WHERE_DIMS:
            raise ValueError(f"the what/where decoder needs z_dim > {WHERE_DIMS}, got {z_dim}")
        if tile not in (16, 32):
            raise ValueError(f"tile must be 16 or 32, got {tile}")
        self.tile = tile
        self.fc = nn.Sequential(nn.Linear(z_dim - WHERE_DIMS, 4 * width), nn.ReLU(inplace=True),
                                nn.Linear(4 * width, width * 4 * 4), nn.ReLU(inplace=True))
        self.width = width
        layers: list[nn.Module] = []
        size, channels = 4, width
        while size < tile // 2:
            layers += [nn.ConvTranspose2d(channels, width, 4, 2, 1), nn.ReLU(inplace=True)]
            size *= 2
        layers.append(nn.ConvTranspose2d(width, 1, 4, 2, 1))
        self.deconvs = nn.Sequential(*layers)
        self.background = nn.Parameter(torch.tensor(BACKGROUND_LOGIT))

    def tile_logits(self, what: torch.Tensor) -> torch.Tensor:
        """The glyph tile's logits (N, 1, tile, tile) from the "what" dimensions."""
        return self.deconvs(self.fc(what).view(what.shape[0], self.width, 4, 4))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        where, what = z[:, :WHERE_DIMS], z[:, WHERE_DIMS:]
        tile = self.tile_logits(what).float() - self.background          # 0 = background
        grid = translation_grid(where.float(), self.tile)
        placed = F.grid_sample(tile, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        return placed + self.background
