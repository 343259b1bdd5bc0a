"""The manifold probe's measures: pure numpy functions of codes and images (docs/probe.md).

A good object manifold (one glyph on one cell, docs/world.md) carries x, y and shape on their own axes,
so that latent search alone solves puzzles. Each function here measures one part of that, on
arrays a caller computed with any model (or built by hand, as the tests do):

- :func:`reconstruction_identity` (a): is each reconstruction nearest, in pixels, to the clean
  render it came from, among all 20 x 9 clean renders?
- :func:`axis_quality` (b): the single dimension that best predicts x (or y), its R^2, and whether
  the three cells lie on it in order and evenly spaced.
- :func:`shift_probe` (c): does code + the mean one-cell step of a move land nearest to the code
  of the shifted object?
- :func:`shape_separation` (d): the smallest distance between two shapes' mean codes, relative to
  the spread of a shape's codes under rendering variation.
- :func:`variance_shares` and :func:`name_dimensions`: what each dimension carries, as names.

Code grids are laid out ``codes[shape, y, x, dim]`` (row y, column x, as in docs/world.md), in the
solver's normalised coordinates (nar_solver/solve/manifold.py: each active dimension mapped so
that the training codes' range is [0, 1]).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

from nar_solver.errors import NarError

GRID = 3
#: (dx, dy) of each shift primitive: x is the column, y the row (shiftup is y - 1), docs/world.md.
MOVES: dict[str, tuple[int, int]] = {"right": (1, 0), "left": (-1, 0), "up": (0, -1), "down": (0, 1)}
FACTORS = ("x", "y", "shape")
#: A dimension is named after a factor when that factor explains at least this share of its variance.
NAME_SHARE = 0.5
#: Targets a good object model meets (issue 10; docs/probe.md).
TARGETS = {"reconstruction_identity": 0.95, "varied_identity": 0.90, "x_r2": 0.95, "y_r2": 0.95,
           "shift_probe": 0.95, "shape_separation": 1.0}


def _grid(codes: np.ndarray, extra: int = 0) -> np.ndarray:
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 4 + extra or codes.shape[1:3] != (GRID, GRID) or codes.shape[0] < 2:
        want = "(shapes, 3, 3, samples, dims)" if extra else "(shapes, 3, 3, dims)"
        raise NarError(f"probe codes must have shape {want} with at least 2 shapes, got {codes.shape}")
    return codes


# -- (a) reconstruction identity -------------------------------------------------------------

@dataclass
class IdentityResult:
    accuracy: float          # fraction of (shape, cell) whose reconstruction is nearest to its own render
    shape_accuracy: float    # ... nearest to a render of the right shape (any cell)
    cell_accuracy: float     # ... nearest to a render in the right cell (any shape)
    per_cell: list           # (3, 3) [y][x]: accuracy over the shapes in that cell
    per_shape: list          # (S,) accuracy over the 9 cells of each shape
    confusion: list          # (S, S) [true shape][shape of the nearest render], counts over cells
    nearest: list            # (S * 9,) index of the nearest clean render of each reconstruction

    def to_dict(self) -> dict:
        return asdict(self)


def reconstruction_identity(reconstructions: np.ndarray, clean: np.ndarray) -> IdentityResult:
    """Reconstructions and clean renders, both (S * 9, ...) in the same (shape, y, x) order and the
    same pixel scale (e.g. ink in [0, 1]). Nearest = smallest squared pixel distance."""
    recon = np.asarray(reconstructions, dtype=np.float64).reshape(len(reconstructions), -1)
    clean = np.asarray(clean, dtype=np.float64).reshape(len(clean), -1)
    n = len(clean)
    if recon.shape != clean.shape or n % (GRID * GRID) or n < 2 * GRID * GRID:
        raise NarError(f"reconstruction identity needs matching (shapes * 9, pixels) arrays, "
                       f"got {recon.shape} and {clean.shape}")
    cells = GRID * GRID
    shapes = n // cells
    dist = (recon ** 2).sum(1)[:, None] - 2 * recon @ clean.T + (clean ** 2).sum(1)[None]
    nearest = dist.argmin(1)
    own = np.arange(n)
    hit = nearest == own
    true_shape, pred_shape = own // cells, nearest // cells
    confusion = np.zeros((shapes, shapes), dtype=np.int64)
    np.add.at(confusion, (true_shape, pred_shape), 1)
    return IdentityResult(
        accuracy=float(hit.mean()),
        shape_accuracy=float((true_shape == pred_shape).mean()),
        cell_accuracy=float((own % cells == nearest % cells).mean()),
        per_cell=hit.reshape(shapes, GRID, GRID).mean(0).tolist(),
        per_shape=hit.reshape(shapes, cells).mean(1).tolist(),
        confusion=confusion.tolist(),
        nearest=nearest.tolist(),
    )


@dataclass
class VariedIdentityResult:
    accuracy: float          # share of varied renders whose reconstruction is nearest to its own shape's
                             # canonical glyph drawn at the same place (cell and pixel offset)
    per_shape: list          # (S,) that accuracy over each shape's varied renders
    grid_accuracy: float     # stricter: nearest of the S * 9 clean grid renders is its own (shape, cell)
    grid_shape_accuracy: float  # ... is a render of its own shape (any cell)

    def to_dict(self) -> dict:
        return asdict(self)


def varied_identity(reconstructions: np.ndarray, candidates: np.ndarray, clean: np.ndarray, shape: np.ndarray,
                    x: np.ndarray, y: np.ndarray, chunk: int = 256) -> VariedIdentityResult:
    """(a) on renders drawn with the training's glyph variation (stroke, rotation, scale, shear, and
    position jitter). Reconstruction i, of a render of ``shape[i]`` in cell (``x[i]``, ``y[i]``), counts
    when, of ``candidates[i]`` (S, ...: every shape's canonical glyph drawn exactly where render i's
    glyph stands), its own shape's is the nearest in squared pixel distance. Also reported: the same
    against the S * 9 clean grid renders ``clean`` (ordered shape, y, x as in
    :func:`reconstruction_identity`), where a glyph jittered by 2 px may be nearer another shape."""
    n = len(reconstructions)
    recon = np.asarray(reconstructions, dtype=np.float32).reshape(n, -1)
    clean = np.asarray(clean, dtype=np.float32).reshape(len(clean), -1)
    shape, x, y = (np.asarray(a, dtype=np.int64).ravel() for a in (shape, x, y))
    cells = GRID * GRID
    if (recon.shape[1] != clean.shape[1] or len(clean) % cells or not (len(shape) == len(x) == len(y) == n)
            or len(candidates) != n or np.asarray(candidates[:1]).reshape(1, -1).shape[1] % recon.shape[1]):
        raise NarError(f"varied identity needs (N, pixels) reconstructions with N factors, (N, shapes, pixels) "
                       f"candidates and (shapes * 9, pixels) clean renders, got {recon.shape}, "
                       f"{np.shape(candidates)} and {clean.shape}")
    shapes = len(clean) // cells
    glyph = np.empty(n, dtype=np.int64)
    for start in range(0, n, chunk):
        cand = np.asarray(candidates[start:start + chunk], dtype=np.float32).reshape(-1, shapes, recon.shape[1])
        glyph[start:start + chunk] = ((cand - recon[start:start + chunk, None]) ** 2).sum(-1).argmin(1)
    dist = (recon ** 2).sum(1)[:, None] - 2 * recon @ clean.T + (clean ** 2).sum(1)[None]
    nearest = dist.argmin(1)
    hit = glyph == shape
    per_shape = [float(hit[shape == s].mean()) if (shape == s).any() else 0.0 for s in range(shapes)]
    return VariedIdentityResult(accuracy=float(hit.mean()), per_shape=per_shape,
                                grid_accuracy=float((nearest == shape * cells + y * GRID + x).mean()),
                                grid_shape_accuracy=float((nearest // cells == shape).mean()))


# -- (b) axis quality ------------------------------------------------------------------------

def linear_r2(values: np.ndarray, target: np.ndarray) -> float:
    """R^2 of the least-squares line predicting ``target`` from ``values`` (the squared Pearson
    correlation); 0 when either is constant."""
    v = np.asarray(values, dtype=np.float64).ravel()
    t = np.asarray(target, dtype=np.float64).ravel()
    v, t = v - v.mean(), t - t.mean()
    denom = float((v ** 2).sum() * (t ** 2).sum())
    return 0.0 if denom <= 1e-24 else float((v @ t) ** 2 / denom)


@dataclass
class AxisResult:
    factor: str              # "x" or "y"
    dim: int                 # latent dimension that best predicts the factor
    r2: float                # its R^2
    r2_per_dim: dict         # {latent dim: R^2} for every dimension probed
    cell_means: list         # (3,) mean coordinate of the codes of cell 0, 1, 2 along ``dim``
    gaps: list               # (2,) cell_means[1] - cell_means[0], cell_means[2] - cell_means[1]
    ordered: bool            # the three cells are strictly monotone along ``dim``
    gap_ratio: float         # smaller |gap| / larger |gap|: 1 = evenly spaced, 0 = two cells together
    lines_ordered: float     # share of the (shape, other coordinate) lines monotone in the same direction

    def to_dict(self) -> dict:
        return asdict(self)


def axis_quality(codes: np.ndarray, factor: str, dims: Sequence[int] | None = None) -> AxisResult:
    """codes (S, 3, 3, d) -> the best single dimension for ``factor`` ("x" = column, "y" = row).

    ``dims`` names the latent dimension of each of the d columns (default 0..d-1)."""
    codes = _grid(codes)
    if factor not in ("x", "y"):
        raise NarError(f"axis quality is measured for x or y, not {factor!r}")
    d = codes.shape[-1]
    dims = list(range(d)) if dims is None else [int(k) for k in dims]
    if len(dims) != d:
        raise NarError(f"{len(dims)} dimension names for {d} code dimensions")
    # move the factor's axis last but one: lines[s, other, cell, d]
    lines = codes if factor == "x" else codes.transpose(0, 2, 1, 3)
    target = np.broadcast_to(np.arange(GRID, dtype=np.float64), lines.shape[:3])
    r2 = [linear_r2(lines[..., k], target) for k in range(d)]
    best = int(np.argmax(r2))
    along = lines[..., best]                                  # (S, 3 other, 3 cells)
    means = along.mean((0, 1))
    gaps = np.diff(means)
    ordered = bool((gaps > 0).all() or (gaps < 0).all())
    big = float(np.abs(gaps).max())
    ratio = 0.0 if big <= 1e-12 else float(np.abs(gaps).min() / big)
    sign = np.sign(gaps.sum())
    steps = np.diff(along, axis=2) * sign
    lines_ordered = float((steps > 0).all(-1).mean()) if sign != 0 else 0.0
    return AxisResult(factor, dims[best], float(r2[best]), {str(k): float(v) for k, v in zip(dims, r2)},
                      means.tolist(), gaps.tolist(), ordered, ratio, lines_ordered)


# -- what each dimension carries -------------------------------------------------------------

def variance_shares(codes: np.ndarray) -> dict[str, list]:
    """codes (S, 3, 3, d) -> per dimension, the share of its variance over the grid explained by
    shape, by row y and by column x (main effects), the rest (interactions), and the variance."""
    codes = _grid(codes)
    total = codes.reshape(-1, codes.shape[-1]).var(0) + 1e-12
    shape, y, x = codes.mean((1, 2)).var(0), codes.mean((0, 2)).var(0), codes.mean((0, 1)).var(0)
    return {"shape": (shape / total).tolist(), "y": (y / total).tolist(), "x": (x / total).tolist(),
            "rest": (1 - (shape + x + y) / total).tolist(), "variance": total.tolist()}


def name_dimensions(shares: dict[str, list], axes: dict[str, "AxisResult"], dims: Sequence[int]) -> dict[str, str]:
    """{latent dim: "x" | "y" | "shape"}: "x" (or "y") where a line through that dimension alone
    predicts the column (row) with R^2 >= :data:`NAME_SHARE` (a position axis one can step
    along), "shape" where shape explains at least that share of its variance. Dimensions that fit
    none are left out. At most one name fits: R^2 for x is at most x's share of the variance."""
    names = {}
    for i, dim in enumerate(dims):
        key = str(int(dim))
        fits = {"x": axes["x"].r2_per_dim[key], "y": axes["y"].r2_per_dim[key], "shape": shares["shape"][i]}
        factor = max(fits, key=fits.get)
        if fits[factor] >= NAME_SHARE:
            names[key] = factor
    return names


# -- (c) shift probe -------------------------------------------------------------------------

def _clamp(v: int) -> int:
    return min(GRID - 1, max(0, v))


@dataclass
class ShiftResult:
    score: float             # mean over the four moves
    per_move: dict           # {move: share of (shape, cell) that land on the shifted object's code}
    step_norm: dict          # {move: length of the mean one-cell step, normalised units}

    def to_dict(self) -> dict:
        return asdict(self)


def shift_probe(codes: np.ndarray, low: float = 0.0, high: float = 1.0) -> ShiftResult:
    """codes (S, 3, 3, d), normalised. For each move, the mean code difference over every
    (shape, cell) where the object moves is added to every (shape, cell) code and clipped to
    [low, high]; it scores when the nearest of that shape's 9 cell codes is the cell the move
    leads to, clamped at the edge (an object at the border stays)."""
    codes = _grid(codes)
    d = codes.shape[-1]
    cells = [(x, y) for y in range(GRID) for x in range(GRID)]
    src = np.stack([codes[:, y, x] for x, y in cells], 1)                         # (S, 9, d)
    per_move, norms = {}, {}
    for name, (dx, dy) in MOVES.items():
        target = [(_clamp(x + dx), _clamp(y + dy)) for x, y in cells]
        moving = [i for i, (c, t) in enumerate(zip(cells, target)) if c != t]
        dst = np.stack([codes[:, ty, tx] for tx, ty in target], 1)
        step = (dst[:, moving] - src[:, moving]).reshape(-1, d).mean(0)
        pred = np.clip(src + step, low, high)
        dist = ((pred[:, :, None] - src[:, None]) ** 2).sum(-1)                    # (S, 9, 9)
        want = np.array([ty * GRID + tx for tx, ty in target])
        per_move[name] = float((dist.argmin(-1) == want[None]).mean())
        norms[name] = float(np.linalg.norm(step))
    return ShiftResult(float(np.mean(list(per_move.values()))), per_move, norms)


# -- (d) shape separation --------------------------------------------------------------------

@dataclass
class SeparationResult:
    score: float             # min over cells and shape pairs of distance / (spread_a + spread_b)
    worst: dict              # the pair and cell where it is reached, with its distance and spreads
    per_cell: list           # (3, 3) [y][x]: that minimum in each cell
    min_distance: float      # smallest distance between two shapes' mean codes in one cell
    median_spread: float     # median over (shape, cell) of the RMS distance of a code to its mean (K - 1 corrected)
    nearest_mean: float      # share of the varied codes nearest to their own shape's mean (same cell)

    def to_dict(self) -> dict:
        return asdict(self)


def shape_separation(codes: np.ndarray) -> SeparationResult:
    """codes (S, 3, 3, K, d): K renders with rendering variation per (shape, cell).

    In each cell, every shape's codes have a mean and a spread (RMS distance to the mean, summed
    squares divided by K - 1); two
    shapes are separated when the distance between their means exceeds the sum of their spreads
    (ratio > 1). The score is the worst ratio over all shape pairs and cells."""
    codes = _grid(codes, extra=1)
    if codes.shape[3] < 2:
        raise NarError("shape separation needs at least 2 renders per (shape, cell)")
    shapes = codes.shape[0]
    means = codes.mean(3)                                                         # (S, 3, 3, d)
    k = codes.shape[3]
    # RMS distance to the mean, with the K - 1 correction so that few samples do not shrink it
    spread = np.sqrt(((codes - means[:, :, :, None]) ** 2).sum((-1, -2)) / (k - 1))  # (S, 3, 3)
    dist = np.sqrt(((means[:, None] - means[None]) ** 2).sum(-1))                 # (S, S, 3, 3)
    ratio = dist / np.maximum(spread[:, None] + spread[None], 1e-12)
    off = ~np.eye(shapes, dtype=bool)
    ratio_off = np.where(off[:, :, None, None], ratio, np.inf)
    per_cell = ratio_off.min((0, 1))
    a, b, y, x = np.unravel_index(int(np.argmin(ratio_off)), ratio_off.shape)
    to_mean = ((codes[:, :, :, :, None] - means.transpose(1, 2, 0, 3)[None, :, :, None]) ** 2).sum(-1)
    own = np.arange(shapes)[:, None, None, None]
    nearest_mean = float((to_mean.argmin(-1) == own).mean())                      # (S, 3, 3, K, S) -> share
    return SeparationResult(
        score=float(per_cell.min()),
        worst={"shapes": [int(a), int(b)], "cell": [int(x), int(y)], "distance": float(dist[a, b, y, x]),
               "spreads": [float(spread[a, y, x]), float(spread[b, y, x])]},
        per_cell=per_cell.tolist(),
        min_distance=float(np.where(off[:, :, None, None], dist, np.inf).min()),
        median_spread=float(np.median(spread)),
        nearest_mean=nearest_mean,
    )


__all__ = ["AxisResult", "FACTORS", "IdentityResult", "MOVES", "NAME_SHARE", "SeparationResult", "ShiftResult",
           "TARGETS", "axis_quality", "name_dimensions", "linear_r2", "reconstruction_identity",
           "shape_separation", "shift_probe", "variance_shares"]
