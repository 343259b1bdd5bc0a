"""The procedural dSprites against the published definition (Matthey et al. 2017), factor by factor.

    .venv/bin/python bench/dsprites_definition.py

The data file is not reachable here, so what can be checked is what its README states: the factor
grid (3 shapes; 6 scales linearly in [0.5, 1]; 40 orientations in [0, 2 pi]; 32 x and 32 y positions
in [0, 1]), binary 64x64 images, and "the latent values chosen to have the smallest step changes
while ensuring that all pixel outputs were different": one step of any factor must change the image,
except where a shape's symmetry makes two orientations the same picture (a square every quarter turn,
an ellipse every half turn, and 0 = 2 pi for all three, which the published grid keeps). Prints the
grid, the sprite sizes in pixels, the range of the centre of mass, and the count of one-step changes
that leave the image unchanged, per factor and shape.
"""
from __future__ import annotations

import numpy as np

from nar_solver.data.dsprites import (
    DEFAULT_GEOMETRY,
    FACTOR_NAMES,
    FACTOR_SIZES,
    FACTOR_VALUES,
    SHAPE_NAMES,
    render,
    sample_factors,
)

SYMMETRY_STEPS = {"square": 10, "ellipse": 20, "heart": 39}  # orientation steps (of 2 pi / 39) of a symmetry


def main() -> int:
    print("factor grid:")
    for name, size, values in zip(FACTOR_NAMES, FACTOR_SIZES, FACTOR_VALUES):
        print(f"  {name:12s} {size:3d} values, {values[0]:.4f} .. {values[-1]:.4f}")
    ink_sizes = {}
    for shape in range(3):
        for scale in (0, 5):
            image = render(np.array([[shape, scale, 0, 16, 16]]))[0]
            rows, cols = np.nonzero(image == 0)
            ink_sizes[(SHAPE_NAMES[shape], scale)] = (cols.max() - cols.min() + 1, rows.max() - rows.min() + 1)
    print("sprite extent in pixels at orientation 0 (width x height), scale 0.5 and 1:")
    for shape in SHAPE_NAMES:
        small, big = ink_sizes[(shape, 0)], ink_sizes[(shape, 5)]
        print(f"  {shape:8s} {small[0]:2d} x {small[1]:2d}   {big[0]:2d} x {big[1]:2d}")
    centre = DEFAULT_GEOMETRY.centre_pixels(np.array([0.0, 1.0]))
    print(f"centre of mass: pixel {centre[0]:.1f} at position 0 to {centre[1]:.1f} at position 1 "
          f"({(centre[1] - centre[0]) / 31:.2f} px per step)")
    values = np.unique(render(sample_factors(np.random.default_rng(0), 256)))
    print(f"pixel values: {values.tolist()} (binary)")

    rng = np.random.default_rng(1)
    base = sample_factors(rng, 3000)
    print("one-step changes that leave the image unchanged (3000 random images per factor):")
    for k, name in enumerate(FACTOR_NAMES):
        if k == 0:
            continue
        moved = base.copy()
        ok = moved[:, k] < FACTOR_SIZES[k] - 1
        moved = moved[ok]
        moved[:, k] += 1
        same = (render(base[ok]) == render(moved)).all(axis=(1, 2))
        by_shape = ", ".join(f"{SHAPE_NAMES[s]} {int(same[base[ok][:, 0] == s].sum())}/{int((base[ok][:, 0] == s).sum())}"
                             for s in range(3))
        print(f"  {name:12s} {by_shape}")
    print("orientation symmetries (image at orientation i equals i + symmetry step, 3000 random images):")
    for s, shape in enumerate(SHAPE_NAMES):
        f = sample_factors(rng, 3000)
        f[:, 0] = s
        f = f[f[:, 2] + SYMMETRY_STEPS[shape] < 40]
        g = f.copy()
        g[:, 2] += SYMMETRY_STEPS[shape]
        agree = (np.abs(render(f).astype(int) - render(g).astype(int)) > 0).mean(axis=(1, 2))
        print(f"  {shape:8s} +{SYMMETRY_STEPS[shape]} steps: differing pixels {100 * agree.mean():.2f}% "
              f"(max {100 * agree.max():.2f}%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
