"""Procedural dSprites: the published 2D-shapes factor grid, rendered analytically on demand.

The published data (Matthey et al. 2017, 737,280 binary 64x64 images) is not reachable from our
machines and caching the whole grid would cost 3 GB, so every image is drawn from its factors:

    shape        3   square, ellipse, heart
    scale        6   0.5 .. 1 in equal steps
    orientation 40   0 .. 2*pi inclusive (the first and last values coincide, as published)
    posX        32   0 .. 1
    posY        32   0 .. 1

(The published colour factor has a single value and is left out.) Rendering is vectorised numpy:
every pixel centre of every image is mapped into its sprite's own frame (translate, rotate,
scale) and tested against the shape there, so a batch of 64 costs about a millisecond.

Geometry (:class:`DSpritesGeometry`) follows the look of the published images as closely as we
could without the file: a scale-1 sprite is about a quarter of the frame, position 0..1 moves the
sprite's centre of mass from pixel 8 to pixel 56, orientation turns the sprite counter-clockwise
on screen, posY 0 is the top. The heart is the classic parametric curve
``x = 16 sin^3 t, y = 13 cos t - 5 cos 2t - 2 cos 3t - cos 4t``. Each shape is centred on its
centre of mass, so the position factors place exactly that point. Images follow the project's
convention: uint8, 255 = white background, 0 = ink, and (like dSprites) only those two values.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from nar_solver.data.factors import check_factor_indices, uniform_factors
from nar_solver.errors import NarError

SHAPE_NAMES: tuple[str, ...] = ("square", "ellipse", "heart")
FACTOR_NAMES: tuple[str, ...] = ("shape", "scale", "orientation", "posX", "posY")
FACTOR_SIZES: tuple[int, ...] = (3, 6, 40, 32, 32)

SCALES = np.linspace(0.5, 1.0, 6)
ORIENTATIONS = np.linspace(0.0, 2.0 * np.pi, 40)
POSITIONS = np.linspace(0.0, 1.0, 32)
FACTOR_VALUES: tuple[np.ndarray, ...] = (np.arange(3, dtype=float), SCALES, ORIENTATIONS, POSITIONS, POSITIONS)

#: Number of images in the full grid (the published file's length).
NUM_IMAGES = int(np.prod(FACTOR_SIZES))

INK = 0
BACKGROUND = 255


@dataclass(frozen=True)
class DSpritesGeometry:
    """Sizes in pixels of a 64x64 frame; ``unit`` is the sprite size at scale 1.

    At scale 1 the square's side is ``0.9 * unit``, the ellipse's axes are ``unit`` by
    ``unit / 2`` and the heart is ``unit`` wide (and ``0.91 * unit`` tall).
    """

    image_size: int = 64
    unit: float = 16.0
    #: Pixel coordinate of the sprite's centre of mass at position 0; position 1 is mirrored.
    margin: float = 8.0
    square_half_side: float = 0.45
    ellipse_semi_axes: tuple[float, float] = (0.5, 0.25)
    heart_samples: int = 4096

    def centre_pixels(self, position: np.ndarray) -> np.ndarray:
        """Position factor value (0..1) -> pixel coordinate of the centre of mass."""
        return self.margin + (self.image_size - 2.0 * self.margin) * np.asarray(position, dtype=float)

    @cached_property
    def heart_polar(self) -> tuple[np.ndarray, np.ndarray]:
        """The heart outline about its centre of mass as (angles ascending, radii), width 1.

        The parametric heart is star-shaped about its centre of mass (its polar angle falls
        monotonically along t), so "inside" is simply "radius below the outline's radius at that
        angle": one interpolation per pixel instead of a polygon test.
        """
        x, y = self.heart_outline()
        angle = np.arctan2(y[:-1], x[:-1])
        radius = np.hypot(x[:-1], y[:-1])
        order = np.argsort(angle)
        angle, radius = angle[order], radius[order]
        # Wrap one sample at each end so interpolation is periodic.
        angle = np.concatenate([angle[-1:] - 2 * np.pi, angle, angle[:1] + 2 * np.pi])
        radius = np.concatenate([radius[-1:], radius, radius[:1]])
        return angle, radius

    def heart_outline(self) -> tuple[np.ndarray, np.ndarray]:
        """The heart's closed outline (x, y up) in unit coordinates, centred on its centre of mass."""
        t = np.linspace(0.0, 2.0 * np.pi, self.heart_samples + 1)
        x = 16.0 * np.sin(t) ** 3 / 32.0
        y = (13.0 * np.cos(t) - 5.0 * np.cos(2 * t) - 2.0 * np.cos(3 * t) - np.cos(4 * t)) / 32.0
        cx, cy = polygon_centroid(x, y)
        return x - cx, y - cy


def polygon_centroid(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Centre of mass of a closed polygon (shoelace formula); the last vertex repeats the first."""
    cross = x[:-1] * y[1:] - x[1:] * y[:-1]
    area = cross.sum() / 2.0
    cx = ((x[:-1] + x[1:]) * cross).sum() / (6.0 * area)
    cy = ((y[:-1] + y[1:]) * cross).sum() / (6.0 * area)
    return float(cx), float(cy)


DEFAULT_GEOMETRY = DSpritesGeometry()


def render_values(
    shape: np.ndarray,
    scale: np.ndarray,
    orientation: np.ndarray,
    pos_x: np.ndarray,
    pos_y: np.ndarray,
    geometry: DSpritesGeometry = DEFAULT_GEOMETRY,
) -> np.ndarray:
    """Draw sprites from factor *values* (shape index, scale, radians, 0..1, 0..1) -> uint8 (N, 64, 64).

    Values need not lie on the published grid (useful for fidelity tests and smooth traversals).
    """
    shape = np.atleast_1d(np.asarray(shape, dtype=np.int64))
    scale, orientation, pos_x, pos_y = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (scale, orientation, pos_x, pos_y))
    n = shape.shape[0]
    if not all(v.shape == (n,) for v in (scale, orientation, pos_x, pos_y)):
        raise NarError("dSprites factor values must be 1-D arrays of one length")
    if n and (shape.min() < 0 or shape.max() >= len(SHAPE_NAMES)):
        raise NarError(f"dSprites shape index must be 0..{len(SHAPE_NAMES) - 1}")
    images = np.empty((n, geometry.image_size, geometry.image_size), dtype=np.uint8)
    for start in range(0, n, _CHUNK):  # chunks keep the float work arrays in cache
        rows = slice(start, start + _CHUNK)
        inside = _inside(shape[rows], scale[rows], orientation[rows], pos_x[rows], pos_y[rows], geometry)
        images[rows] = np.where(inside, np.uint8(INK), np.uint8(BACKGROUND))
    return images


_CHUNK = 256


def _inside(shape, scale, orientation, pos_x, pos_y, geometry: DSpritesGeometry) -> np.ndarray:
    """Boolean ink masks (n, H, W): each pixel centre mapped into its sprite's frame and tested."""
    n, size = shape.shape[0], geometry.image_size
    centres = np.arange(size, dtype=np.float32) + 0.5  # pixel centres
    cx = geometry.centre_pixels(pos_x).astype(np.float32)[:, None, None]
    cy = geometry.centre_pixels(pos_y).astype(np.float32)[:, None, None]
    dx = centres[None, None, :] - cx  # (n, 1, W)
    dy_up = cy - centres[None, :, None]  # (n, H, 1): screen y points down, the sprite frame's up
    extent = geometry.unit * scale
    cos = (np.cos(orientation) / extent).astype(np.float32)[:, None, None]
    sin = (np.sin(orientation) / extent).astype(np.float32)[:, None, None]
    # Rotate the pixel offset by -orientation and divide by the sprite's size.
    u = cos * dx + sin * dy_up  # (n, H, W)
    v = cos * dy_up - sin * dx

    inside = np.zeros((n, size, size), dtype=bool)
    for index, name in enumerate(SHAPE_NAMES):
        rows = np.flatnonzero(shape == index)
        if rows.size == 0:
            continue
        su, sv = u[rows], v[rows]
        if name == "square":
            half = geometry.square_half_side
            inside[rows] = (np.abs(su) <= half) & (np.abs(sv) <= half)
        elif name == "ellipse":
            a, b = geometry.ellipse_semi_axes
            inside[rows] = (su * (1.0 / a)) ** 2 + (sv * (1.0 / b)) ** 2 <= 1.0
        else:
            angles, radii = geometry.heart_polar
            outline = np.interp(np.arctan2(sv, su), angles, radii)
            inside[rows] = su * su + sv * sv <= outline * outline
    return inside


def factors_to_values(factors: np.ndarray) -> tuple[np.ndarray, ...]:
    """Grid indices (N, 5) -> the five value arrays (shape index, scale, orientation, posX, posY)."""
    factors = check_factors(factors)
    return tuple(FACTOR_VALUES[k][factors[:, k]] for k in range(len(FACTOR_SIZES)))


def render(factors: np.ndarray, geometry: DSpritesGeometry = DEFAULT_GEOMETRY) -> np.ndarray:
    """Grid indices (N, 5) in :data:`FACTOR_NAMES` order -> uint8 images (N, 64, 64)."""
    shape, scale, orientation, pos_x, pos_y = factors_to_values(factors)
    return render_values(shape.astype(np.int64), scale, orientation, pos_x, pos_y, geometry)


def check_factors(factors: np.ndarray) -> np.ndarray:
    """Validate grid indices: integer array (N, 5) within :data:`FACTOR_SIZES`."""
    return check_factor_indices(factors, FACTOR_SIZES, "dSprites")


def sample_factors(rng: np.random.Generator, n: int) -> np.ndarray:
    """Uniform random grid indices (n, 5), every factor independent (as in the full grid)."""
    return uniform_factors(FACTOR_SIZES, rng, n)
