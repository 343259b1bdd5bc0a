"""The latent manifold the solver searches: encode boards' objects, perturb codes, decode, composite.

Three kinds:

- ``objects``: every object of a board is encoded on its own, as a single-object board,
  by the object-level Factor-VAE. A program acts on every object the same way, so one perturbation
  applied to every object's code can express it.
- ``objects-xy`` (default): every object as its position (from perception, in grid units) plus the object
  model's code of the object moved to the centre cell. The VAE then only has to carry shape; a
  shift is an exact additive step on the two position coordinates, clipped at the grid's edge.
- ``board``: the whole-board design, one code per whole board (its board-level VAE).

Codes are handled in *normalised* coordinates: each usable ("active") latent dimension is mapped
to [0, 1], 0 and 1 being the range the encoder produces on training data (``latent_low`` /
``latent_high``, stored with the checkpoint). Clipping a perturbed code to [0, 1] then keeps it
inside what the decoder has seen; with a disentangled position axis that reproduces the clamped
shift at the board edge. Collapsed dimensions (a near-zero range: the posterior ignores the input
there) are left out of the search and decoded at their centre.

Between 0 and 1 the map is, by default, a linear rescaling of each dimension's range (``range``).
The alternative, ``quantile``, maps each dimension through its empirical distribution function over
a reference set of training-like images (every shape in every cell for objects; random boards of
1-3 objects for boards). It was meant for pure latent manifolds, where a VAE places the three
columns of the grid along its x axis at uneven distances and every cell holds a third of the
reference objects, so in quantile coordinates a shift is one step again. It stays as a measured
ablation: on the default ``objects-xy`` manifold it changes nothing that matters, so the simpler
map is the default (bench/solver_ablation.py; the numbers are in docs/solver.md).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from nar_solver import defaults
from nar_solver.errors import CheckpointError, NarError
from nar_solver.model.images import to_ink
from nar_solver.run.checkpoint import load_model
from nar_solver.run.shipped import shipped_model
from nar_solver.solve.perception import PerceivedObject, split_objects, whole_board
from nar_solver.world.board import GRID, IMAGE_SIZE, MARGIN, TILE, tile_origin

KINDS: tuple[str, ...] = ("objects-xy", "objects", "board")
DEFAULT_KIND = defaults.MANIFOLD
NORMALISATIONS: tuple[str, ...] = ("range", "quantile")

#: A dimension whose training-data range is below this (in latent units) is treated as collapsed.
ACTIVE_RANGE = 0.1
#: ... or below this fraction of the widest dimension's range.
ACTIVE_FRACTION = 0.1
#: objects-xy: objects are encoded in the middle cell; positions are (centre - FIRST) / STEP, so the
#: three columns (rows) sit at 0, 0.5 and 1.
CENTRE_CELL = 1
POSITION_FIRST = float(MARGIN + TILE // 2)
POSITION_STEP = float(TILE * (GRID - 1))
#: Images per encoder/decoder forward pass (bounds memory, not the number of passes for typical puzzles).
MAX_BATCH = 4096


#: The shipped model (:mod:`nar_solver.run.shipped`) each kind of manifold uses by default.
SHIPPED_PRESET: dict[str, str] = {"objects": "objects-whatwhere", "objects-xy": "objects", "board": "boards-broadcast"}


def usable_dimensions(low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """Indices of latent dimensions with a usable range on training data."""
    span = (high - low).float()
    keep = (span >= ACTIVE_RANGE) & (span >= ACTIVE_FRACTION * span.max())
    if not bool(keep.any()):
        keep = span >= span.max()
    return torch.nonzero(keep).flatten()


def reference_images(kind: str, boards: int = 512, seed: int = 12345) -> np.ndarray:
    """Training-like images whose codes define the quantile map: every shape in every cell for
    objects; random boards of 1-3 objects for the board manifold."""
    from nar_solver.world.board import GRID, Board, random_board, render_board
    from nar_solver.world.glyphs import SHAPES

    if kind == "objects":
        return np.stack([render_board(Board.of([(s, x, y)])) for s in SHAPES for y in range(GRID)
                         for x in range(GRID)])
    if kind == "objects-xy":
        return np.stack([render_board(Board.of([(s, CENTRE_CELL, CENTRE_CELL)])) for s in SHAPES])
    rng = np.random.default_rng(seed)
    return np.stack([render_board(random_board(rng, int(rng.integers(1, 4)))) for _ in range(boards)])


class QuantileMap:
    """Per-dimension piecewise-linear distribution function of reference codes, pinned to 0 at
    ``low`` and 1 at ``high``, and its inverse. Codes (N, d) <-> quantiles (N, d) in [0, 1]."""

    def __init__(self, codes: torch.Tensor, low: torch.Tensor, high: torch.Tensor):
        n, d = codes.shape
        span = (high - low).clamp_min(1e-6)
        inner = torch.minimum(torch.maximum(codes.sort(0).values, low), high)
        knots = torch.cat([low[None], inner, high[None]])                       # (n+2, d)
        ramp = torch.arange(n + 2, dtype=knots.dtype, device=knots.device)[:, None] * 1e-6 * span
        self.knots = (knots + ramp).T.contiguous()                               # (d, n+2), increasing
        probs = (torch.arange(n, dtype=knots.dtype, device=knots.device) + 0.5) / max(n, 1)
        self.probs = torch.cat([probs.new_zeros(1), probs, probs.new_ones(1)])   # (n+2,)

    @staticmethod
    def _interp(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor) -> torch.Tensor:
        """Row-wise linear interpolation: x (d, N), xp (d, K) increasing, fp (d, K) -> (d, N),
        clamped at the ends."""
        k = xp.shape[-1]
        idx = torch.searchsorted(xp, x.contiguous()).clamp(1, k - 1)
        x0, x1 = xp.gather(-1, idx - 1), xp.gather(-1, idx)
        f0, f1 = fp.gather(-1, idx - 1), fp.gather(-1, idx)
        t = ((x - x0) / (x1 - x0).clamp_min(1e-12)).clamp(0.0, 1.0)
        return f0 + t * (f1 - f0)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        d = self.knots.shape[0]
        probs = self.probs.expand(d, -1)
        return self._interp(z.T, self.knots, probs).T

    def inverse(self, u: torch.Tensor) -> torch.Tensor:
        d = self.knots.shape[0]
        probs = self.probs.expand(d, -1).contiguous()
        return self._interp(u.T, probs, self.knots).T


class LatentManifold:
    """A trained VAE seen as a searchable space of (normalised, active) codes."""

    def __init__(self, vae: torch.nn.Module, latent_low, latent_high, kind: str = "objects",
                 device: str | torch.device = "cpu", normalisation: str = "range",
                 reference: np.ndarray | None = None):
        if kind not in KINDS:
            raise NarError(f"unknown manifold {kind!r}; choose one of {', '.join(KINDS)}")
        if normalisation not in NORMALISATIONS:
            raise NarError(f"unknown normalisation {normalisation!r}; choose one of {', '.join(NORMALISATIONS)}")
        self.kind = kind
        self.device = torch.device(device)
        # channels_last: the decoder's convolutions run ~1.3x faster on a CPU (bench/pixel_scoring.py)
        self.vae = vae.to(self.device).eval().to(memory_format=torch.channels_last)
        self.z_dim = int(vae.z_dim)
        self.low = torch.as_tensor(np.asarray(latent_low), dtype=torch.float32, device=self.device).flatten()
        self.high = torch.as_tensor(np.asarray(latent_high), dtype=torch.float32, device=self.device).flatten()
        if self.low.numel() != self.z_dim or self.high.numel() != self.z_dim:
            raise CheckpointError(f"latent range has {self.low.numel()} dims but the model has {self.z_dim}")
        self.active = usable_dimensions(self.low, self.high)
        self.span = (self.high - self.low)[self.active].clamp_min(1e-6)
        self.centre = (self.low + self.high) / 2
        self.normalisation = normalisation
        self.positions = 2 if kind == "objects-xy" else 0
        self.source: Path | None = None       # the checkpoint folder it was loaded from (load_manifold)
        self.trained_on: str | None = None    # config.json's ``data`` of that checkpoint
        self.quantiles: QuantileMap | None = None
        if normalisation == "quantile":
            images = reference_images(kind) if reference is None else np.asarray(reference)
            codes = self._encode_raw(images)[:, self.active]
            self.quantiles = QuantileMap(codes, self.low[self.active], self.high[self.active])

    @property
    def dims(self) -> int:
        """Number of searchable dimensions: position coordinates (objects-xy) and active latents."""
        return self.positions + int(self.active.numel())

    # -- perception ---------------------------------------------------------------------------

    def split(self, board: np.ndarray) -> list[PerceivedObject]:
        """The units this manifold encodes: the board's objects, or the whole board as one unit."""
        if self.kind == "board":
            return [whole_board(board)]
        return split_objects(board)

    # -- codes --------------------------------------------------------------------------------

    @staticmethod
    def position_of(obj: PerceivedObject) -> tuple[float, float]:
        """(x, y) in grid units: the cell for grid objects, else from the ink's centre of mass."""
        if obj.cell is not None:
            return obj.cell[0] / (GRID - 1), obj.cell[1] / (GRID - 1)
        row, col = obj.centre
        return (col + 0.5 - POSITION_FIRST) / POSITION_STEP, (row + 0.5 - POSITION_FIRST) / POSITION_STEP

    @staticmethod
    def centred(obj: PerceivedObject) -> np.ndarray:
        """The object alone, moved to the middle cell (whole pixels)."""
        image = np.asarray(obj.image)
        out = np.full_like(image, 255)
        if obj.cell is not None:
            r, c = tile_origin(*obj.cell)
            r0, c0 = tile_origin(CENTRE_CELL, CENTRE_CELL)
            out[r0:r0 + TILE, c0:c0 + TILE] = image[r:r + TILE, c:c + TILE]
            return out
        target = POSITION_FIRST + POSITION_STEP / 2 - 0.5
        dr, dc = int(round(target - obj.centre[0])), int(round(target - obj.centre[1]))
        h, w = image.shape
        src = image[max(0, -dr):h - max(0, dr), max(0, -dc):w - max(0, dc)]
        out[max(0, dr):max(0, dr) + src.shape[0], max(0, dc):max(0, dc) + src.shape[1]] = src
        return out

    def normalise(self, z: torch.Tensor) -> torch.Tensor:
        """Latent codes (N, z_dim) -> normalised active coordinates (N, active dims)."""
        active = z[:, self.active]
        if self.quantiles is not None:
            return self.quantiles.forward(active)
        return (active - self.low[self.active]) / self.span

    def latent(self, u: torch.Tensor) -> torch.Tensor:
        """Normalised active coordinates (..., active dims) -> full latent codes (..., z_dim)."""
        flat = u.reshape(-1, u.shape[-1])
        z = self.centre.expand(flat.shape[0], self.z_dim).clone()
        if self.quantiles is not None:
            z[:, self.active] = self.quantiles.inverse(flat.clamp(0.0, 1.0))
        else:
            z[:, self.active] = self.low[self.active] + flat * self.span
        return z.reshape(*u.shape[:-1], self.z_dim)

    @torch.inference_mode()
    def _encode_raw(self, images: np.ndarray) -> torch.Tensor:
        """uint8 grey images (N, 64, 64) -> posterior means (N, z_dim). Identical images are
        encoded once (a puzzle repeats most objects across its options; centred, every glyph
        is one of a few images)."""
        images = np.ascontiguousarray(images)
        first: dict[bytes, int] = {}
        index = np.array([first.setdefault(img.tobytes(), len(first)) for img in images], dtype=np.int64)
        unique = images[np.unique(index, return_index=True)[1]]
        parts = []
        for start in range(0, unique.shape[0], MAX_BATCH):
            mu, _ = self.vae.encode(to_ink(unique[start:start + MAX_BATCH], device=self.device))
            parts.append(mu.float())
        return torch.cat(parts)[torch.from_numpy(index).to(self.device)]

    @torch.inference_mode()
    def encode_objects(self, objects: Sequence[PerceivedObject]) -> torch.Tensor:
        """Perceived objects -> normalised codes (N, dims), all in one encoder pass."""
        if len(objects) == 0:
            return torch.zeros((0, self.dims), device=self.device)
        if not self.positions:
            return self.normalise(self._encode_raw(np.stack([o.image for o in objects])))
        codes = self.normalise(self._encode_raw(np.stack([self.centred(o) for o in objects])))
        xy = torch.tensor([self.position_of(o) for o in objects], dtype=codes.dtype, device=codes.device)
        return torch.cat([xy, codes], dim=1)

    @torch.inference_mode()
    def encode(self, images: np.ndarray | Sequence[np.ndarray]) -> torch.Tensor:
        """uint8 grey single-object images (N, 64, 64) -> normalised codes (N, dims)."""
        return self.encode_objects([whole_board(i) for i in np.asarray(images)])

    @torch.inference_mode()
    def decode(self, u: torch.Tensor) -> torch.Tensor:
        """Normalised codes (..., dims) -> ink probabilities (..., 64, 64), in one forward pass
        (split only beyond :data:`MAX_BATCH` codes)."""
        lead = u.shape[:-1]
        flat = u.to(self.device, torch.float32).reshape(-1, self.dims)
        z = self.latent(flat[:, self.positions:])
        if z.shape[0] == 0:
            return torch.zeros((*lead, IMAGE_SIZE, IMAGE_SIZE), device=self.device)
        parts = [torch.sigmoid(self.vae.decode(z[s:s + MAX_BATCH]).float())
                 for s in range(0, z.shape[0], MAX_BATCH)]
        images = torch.cat(parts)
        if self.positions:
            images = self._translate(images, flat[:, :2])
        return images[:, 0].reshape(*lead, IMAGE_SIZE, IMAGE_SIZE)

    @staticmethod
    def _translate(images: torch.Tensor, xy: torch.Tensor) -> torch.Tensor:
        """Move centre-cell images (N, 1, 64, 64) to positions xy (N, 2) in grid units (bilinear,
        ink 0 outside)."""
        import torch.nn.functional as F

        shift = (xy.clamp(0.0, 1.0) - 0.5) * POSITION_STEP * (2.0 / IMAGE_SIZE)       # normalised units
        theta = torch.zeros((images.shape[0], 2, 3), dtype=images.dtype, device=images.device)
        theta[:, 0, 0] = theta[:, 1, 1] = 1.0
        theta[:, :, 2] = -shift
        grid = F.affine_grid(theta, list(images.shape), align_corners=False)
        return F.grid_sample(images, grid, align_corners=False, padding_mode="zeros")


def load_manifold(checkpoint: str | Path | None = None, kind: str = DEFAULT_KIND,
                  device: str | torch.device = "cpu", normalisation: str = "range") -> LatentManifold:
    """The manifold of a checkpoint folder (``None``: the shipped model of ``kind``)."""
    if kind not in KINDS:
        raise NarError(f"unknown manifold {kind!r}; choose one of {', '.join(KINDS)}")
    if checkpoint is None:
        checkpoint = shipped_model(SHIPPED_PRESET[kind], kind)
    loaded = load_model(checkpoint, device=device)
    manifold = LatentManifold(loaded.vae, loaded.latent_low, loaded.latent_high, kind=kind, device=device,
                              normalisation=normalisation)
    manifold.source = Path(checkpoint).resolve()
    manifold.trained_on = loaded.config.data
    return manifold
