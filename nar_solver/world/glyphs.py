"""The 20 published NAR shapes, drawn by our own code (no font files, nothing downloaded).

Every glyph is a handful of strokes (polylines) in a unit box, y pointing down. A tile is made the
published way: the strokes are drawn large with Pillow's ``ImageDraw`` in 8-bit grey (black ink on
white), then resized to 20x20 with bicubic filtering. The four geometric shapes are thick outlines
that nearly fill the tile; the sixteen characters are thin, slightly irregular "hand-drawn" strokes
8-11 px tall. Optional :class:`GlyphVariation` jitters stroke width and applies a small affine map to
the stroke points (so the strokes stay crisp), for training robustness; puzzles use no variation.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

#: The published shape names in the canonical order of docs/world.md.
SHAPES: tuple[str, ...] = (
    "circle", "square", "triangle", "delta",
    "b", "d", "e", "g", "k", "m", "r", "s", "u", "w", "x", "z",
    "theta", "pi", "tau", "psi",
)
#: The four thick geometric outlines (the targets of the shape conversions).
GEOMETRIC: tuple[str, ...] = SHAPES[:4]
#: The sixteen thin character glyphs.
CHARACTERS: tuple[str, ...] = SHAPES[4:]

TILE_SIZE = 20
#: Side of the canvas a glyph is drawn on before the bicubic resize to TILE_SIZE.
DRAW_SIZE = 200
#: Stroke widths as fractions of the glyph box: about 2 px in a tile for the outlines, 1-1.5 px for letters.
GEOMETRIC_STROKE = 0.085
CHARACTER_STROKE = 0.062

Point = tuple[float, float]
Stroke = tuple[Point, ...]


@dataclass(frozen=True)
class GlyphVariation:
    """Ranges for random per-tile jitter. Each tile draws one value uniformly from each range.

    ``translate`` is in tile pixels; ``rotation`` in degrees; ``shear`` is the x-shear factor;
    ``quarter_turns`` lists the allowed extra rotations by multiples of 90 degrees (later NAR work
    rotated glyphs by 0/90/180/270).
    """

    stroke_scale: tuple[float, float] = (0.75, 1.35)
    rotation: tuple[float, float] = (-8.0, 8.0)
    scale: tuple[float, float] = (0.9, 1.08)
    shear: tuple[float, float] = (-0.12, 0.12)
    translate: tuple[float, float] = (-0.8, 0.8)
    quarter_turns: tuple[int, ...] = (0,)

    def __post_init__(self) -> None:
        for name in ("stroke_scale", "rotation", "scale", "shear", "translate"):
            low, high = getattr(self, name)
            if not low <= high:
                raise ValueError(f"GlyphVariation.{name}: low {low} > high {high}")
        if self.stroke_scale[0] <= 0 or self.scale[0] <= 0:
            raise ValueError("GlyphVariation: stroke_scale and scale must be positive")
        if not self.quarter_turns:
            raise ValueError("GlyphVariation.quarter_turns: needs at least one value")


# ----------------------------------------------------------------------------------------------
# Stroke geometry


def _catmull_rom(points: list[Point], samples: int = 10) -> Stroke:
    """A smooth curve through ``points`` (centripetal-free uniform Catmull-Rom), ends included."""
    if len(points) < 3:
        return tuple(points)
    pts = [points[0], *points, points[-1]]
    out: list[Point] = []
    for i in range(1, len(pts) - 2):
        p0, p1, p2, p3 = pts[i - 1], pts[i], pts[i + 1], pts[i + 2]
        for k in range(samples):
            t = k / samples
            t2, t3 = t * t, t * t * t
            out.append(tuple(  # type: ignore[arg-type]
                0.5 * (2 * p1[j] + (-p0[j] + p2[j]) * t + (2 * p0[j] - 5 * p1[j] + 4 * p2[j] - p3[j]) * t2
                       + (-p0[j] + 3 * p1[j] - 3 * p2[j] + p3[j]) * t3)
                for j in range(2)
            ))
    out.append(points[-1])
    return tuple(out)


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, stop: float, n: int = 48) -> Stroke:
    """Points along an ellipse arc; angles in degrees, 0 = right, 90 = down (image coordinates)."""
    return tuple(
        (cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
        for a in np.linspace(start, stop, n)
    )


def _curve(*points: Point) -> Stroke:
    return _catmull_rom(list(points))


def _line(*points: Point) -> Stroke:
    return tuple(points)


def _geometric_strokes() -> dict[str, tuple[Stroke, ...]]:
    r = 0.41
    square = 0.4
    tri_top, tri_bottom, tri_half = 0.1, 0.86, 0.43
    return {
        "circle": (_arc(0.5, 0.5, r, r, 0, 360, 96),),
        "square": (_line((0.5 - square, 0.5 - square), (0.5 + square, 0.5 - square),
                         (0.5 + square, 0.5 + square), (0.5 - square, 0.5 + square),
                         (0.5 - square, 0.5 - square)),),
        "triangle": (_line((0.5, tri_top), (0.5 + tri_half, tri_bottom), (0.5 - tri_half, tri_bottom),
                           (0.5, tri_top)),),
        "delta": (_line((0.5, 1 - tri_top), (0.5 + tri_half, 1 - tri_bottom),
                        (0.5 - tri_half, 1 - tri_bottom), (0.5, 1 - tri_top)),),
    }


def _character_strokes() -> dict[str, tuple[Stroke, ...]]:
    """Hand-placed control points, slightly irregular like handwriting; :func:`_centred` then
    sizes and centres each letter."""
    return {
        "b": (
            _curve((0.39, 0.25), (0.38, 0.5), (0.385, 0.75)),
            _curve((0.385, 0.56), (0.5, 0.47), (0.62, 0.55), (0.61, 0.69), (0.49, 0.76), (0.39, 0.72)),
        ),
        "d": (
            _curve((0.615, 0.25), (0.62, 0.5), (0.63, 0.76)),
            _curve((0.62, 0.55), (0.5, 0.47), (0.38, 0.56), (0.39, 0.7), (0.51, 0.76), (0.62, 0.7)),
        ),
        "e": (
            _curve((0.37, 0.58), (0.5, 0.585), (0.63, 0.57), (0.6, 0.46), (0.49, 0.43), (0.38, 0.51),
                   (0.39, 0.68), (0.5, 0.74), (0.63, 0.69)),
        ),
        "g": (
            _curve((0.6, 0.42), (0.48, 0.35), (0.38, 0.43), (0.41, 0.55), (0.52, 0.58), (0.61, 0.49)),
            _curve((0.615, 0.36), (0.62, 0.55), (0.61, 0.72), (0.5, 0.8), (0.38, 0.74)),
        ),
        "k": (
            _curve((0.39, 0.24), (0.385, 0.5), (0.39, 0.76)),
            _line((0.63, 0.42), (0.4, 0.6)),
            _line((0.47, 0.55), (0.65, 0.76)),
        ),
        "m": (
            _curve((0.3, 0.44), (0.305, 0.6), (0.3, 0.74)),
            _curve((0.305, 0.52), (0.39, 0.43), (0.48, 0.47), (0.5, 0.6), (0.5, 0.74)),
            _curve((0.5, 0.53), (0.59, 0.43), (0.68, 0.47), (0.7, 0.6), (0.7, 0.74)),
        ),
        "r": (
            _curve((0.42, 0.42), (0.415, 0.58), (0.42, 0.75)),
            _curve((0.42, 0.54), (0.48, 0.45), (0.56, 0.42), (0.63, 0.45)),
        ),
        "s": (
            _curve((0.62, 0.45), (0.52, 0.4), (0.41, 0.44), (0.43, 0.54), (0.56, 0.59), (0.61, 0.68),
                   (0.5, 0.75), (0.37, 0.7)),
        ),
        "u": (
            _curve((0.38, 0.42), (0.39, 0.62), (0.47, 0.74), (0.58, 0.7), (0.62, 0.55), (0.62, 0.42)),
            _curve((0.62, 0.42), (0.62, 0.6), (0.64, 0.75)),
        ),
        "w": (
            _line((0.29, 0.42), (0.39, 0.73), (0.5, 0.5), (0.6, 0.73), (0.71, 0.42)),
        ),
        "x": (
            _line((0.36, 0.42), (0.64, 0.75)),
            _line((0.63, 0.41), (0.37, 0.76)),
        ),
        "z": (
            _line((0.37, 0.43), (0.63, 0.42), (0.37, 0.74), (0.64, 0.73)),
        ),
        "theta": (
            _arc(0.5, 0.5, 0.14, 0.25, -90, 270, 64),
            _line((0.37, 0.5), (0.63, 0.5)),
        ),
        "pi": (
            _curve((0.3, 0.45), (0.5, 0.41), (0.71, 0.4)),
            _curve((0.42, 0.42), (0.41, 0.6), (0.38, 0.75)),
            _curve((0.6, 0.41), (0.6, 0.6), (0.62, 0.72), (0.67, 0.75)),
        ),
        "tau": (
            _curve((0.32, 0.45), (0.5, 0.42), (0.68, 0.41)),
            _curve((0.5, 0.42), (0.49, 0.6), (0.52, 0.72), (0.61, 0.75)),
        ),
        "psi": (
            _curve((0.32, 0.38), (0.35, 0.55), (0.5, 0.62), (0.65, 0.55), (0.68, 0.38)),
            _curve((0.5, 0.24), (0.5, 0.5), (0.5, 0.78)),
        ),
    }


#: Letter heights (stroke centre lines) as fractions of the box; with the pen the ink is about 11 px
#: tall in a tile for letters with an ascender or descender, about 9 px for the others.
TALL_HEIGHT = 0.48
SHORT_HEIGHT = 0.38
_TALL = frozenset({"b", "d", "g", "k", "theta", "psi"})


def _centred(strokes: tuple[Stroke, ...], height: float) -> tuple[Stroke, ...]:
    """Scale a letter uniformly to ``height`` and centre its bounding box in the glyph box."""
    pts = np.concatenate([np.asarray(s) for s in strokes])
    low, high = pts.min(axis=0), pts.max(axis=0)
    factor = height / (high[1] - low[1])
    centre = (low + high) / 2
    return tuple(tuple((float(0.5 + (x - centre[0]) * factor), float(0.5 + (y - centre[1]) * factor))
                       for x, y in stroke) for stroke in strokes)


_STROKES: dict[str, tuple[Stroke, ...]] = {
    **_geometric_strokes(),
    **{name: _centred(strokes, TALL_HEIGHT if name in _TALL else SHORT_HEIGHT)
       for name, strokes in _character_strokes().items()},
}
assert tuple(_STROKES) == SHAPES  # canonical order is part of the API


# ----------------------------------------------------------------------------------------------
# Rendering


def _check_shape(shape: str) -> None:
    if shape not in _STROKES:
        raise ValueError(f"unknown shape {shape!r}; known shapes: {', '.join(SHAPES)}")


def _affine(variation: GlyphVariation, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Draw one affine map (3x3, unit-box coordinates about the centre) and a stroke scale."""
    u = lambda pair: float(rng.uniform(pair[0], pair[1]))  # noqa: E731
    stroke = u(variation.stroke_scale)
    angle = math.radians(u(variation.rotation) + 90 * int(rng.choice(variation.quarter_turns)))
    scale, shear = u(variation.scale), u(variation.shear)
    tx, ty = (u(variation.translate) / TILE_SIZE for _ in range(2))
    cos, sin = math.cos(angle), math.sin(angle)
    linear = np.array([[cos, -sin], [sin, cos]]) @ np.array([[1.0, shear], [0.0, 1.0]]) * scale
    matrix = np.eye(3)
    matrix[:2, :2] = linear
    matrix[:2, 2] = np.array([0.5 + tx, 0.5 + ty]) - linear @ np.array([0.5, 0.5])
    return matrix, stroke


def _fit(strokes: list[np.ndarray], width: float) -> list[np.ndarray]:
    """Shrink jittered strokes about the box centre just enough that the pen stays inside the box
    (large outlines would otherwise be cut at the tile edge)."""
    reach = max(float(np.abs(pts - 0.5).max()) for pts in strokes) + width / 2
    limit = 0.46  # as far out as the canonical outlines reach
    if reach <= limit:
        return strokes
    factor = (limit - width / 2) / (reach - width / 2)
    return [0.5 + (pts - 0.5) * factor for pts in strokes]


def _draw(shape: str, matrix: np.ndarray | None, stroke_scale: float) -> np.ndarray:
    width_frac = GEOMETRIC_STROKE if shape in GEOMETRIC else CHARACTER_STROKE
    width = max(1, round(width_frac * stroke_scale * DRAW_SIZE))
    image = Image.new("L", (DRAW_SIZE, DRAW_SIZE), 255)
    draw = ImageDraw.Draw(image)
    strokes = [np.asarray(stroke, dtype=np.float64) for stroke in _STROKES[shape]]
    if matrix is not None:
        strokes = _fit([pts @ matrix[:2, :2].T + matrix[:2, 2] for pts in strokes], width / DRAW_SIZE)
    for pts in strokes:
        pts = pts * DRAW_SIZE
        xy = [(float(x), float(y)) for x, y in pts]
        draw.line(xy, fill=0, width=width, joint="curve")
        radius = width / 2
        for x, y in (xy[0], xy[-1]):  # round caps, like a pen
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=0)
    tile = image.resize((TILE_SIZE, TILE_SIZE), Image.Resampling.BICUBIC)
    return np.asarray(tile, dtype=np.uint8)


@functools.lru_cache(maxsize=None)
def _plain_tile(shape: str) -> np.ndarray:
    tile = _draw(shape, None, 1.0)
    tile.setflags(write=False)
    return tile


def glyph_tile(
    shape: str,
    variation: GlyphVariation | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """The 20x20 uint8 tile of ``shape`` (255 = white background).

    Without ``variation`` the tile is the canonical one, cached and returned read-only (copy it
    before writing). With ``variation``, ``rng`` draws the jitter (a fresh unseeded generator if
    None) and the tile is a new writable array.
    """
    _check_shape(shape)
    if variation is None:
        return _plain_tile(shape)
    matrix, stroke = _affine(variation, rng if rng is not None else np.random.default_rng())
    return _draw(shape, matrix, stroke)


def glyph_bank() -> np.ndarray:
    """All 20 canonical tiles stacked in SHAPES order: uint8 (20, 20, 20), read-only."""
    return _bank()


@functools.lru_cache(maxsize=1)
def _bank() -> np.ndarray:
    bank = np.stack([_plain_tile(s) for s in SHAPES])
    bank.setflags(write=False)
    return bank
