"""How well an object model's latent space supports the solver's moves, without solving anything.

    .venv/bin/python bench/manifold_probe.py runs/my-objects-model

1. Variance decomposition of each latent dimension over the 20 shapes x 9 cells of the NAR world
   (encoder means): the share explained by shape, by column x, by row y, and the rest
   (interactions). A good object model has dimensions that are pure x, pure y or pure shape.
2. Shift probe: for each shift direction, the mean code difference of a one-cell shift (over all
   shapes and cells where it moves) is added to every (shape, cell) code, in the solver's
   normalised coordinates, clipped to [0, 1]; it scores when the nearest of that shape's 9 cell
   codes is the cell the shift (clamped at the edge) leads to. 1.0 means "shift" is one vector.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from nar_solver.solve.manifold import NORMALISATIONS, load_manifold
from nar_solver.world.board import GRID, Board, render_board
from nar_solver.world.glyphs import SHAPES

MOVES = {"right": (1, 0), "left": (-1, 0), "down": (0, 1), "up": (0, -1)}


def grid_images() -> np.ndarray:
    return np.stack([render_board(Board.of([(s, x, y)])) for s in SHAPES for y in range(GRID) for x in range(GRID)])


def variance_shares(z: np.ndarray) -> dict[str, np.ndarray]:
    """z (shapes, rows, cols, d) -> share of each dim's variance from shape, y, x and the rest."""
    total = z.reshape(-1, z.shape[-1]).var(0) + 1e-12
    shape, y, x = z.mean((1, 2)).var(0), z.mean((0, 2)).var(0), z.mean((0, 1)).var(0)
    return {"shape": shape / total, "y": y / total, "x": x / total, "rest": 1 - (shape + x + y) / total,
            "variance": total}


def shift_probe(u: np.ndarray) -> dict[str, float]:
    """u (shapes, rows, cols, d) normalised codes -> accuracy of one mean shift vector per move."""
    d = u.shape[-1]
    scores = {}
    for name, (dx, dy) in MOVES.items():
        cells = [(x, y) for y in range(GRID) for x in range(GRID)]
        target = [(min(GRID - 1, max(0, x + dx)), min(GRID - 1, max(0, y + dy))) for x, y in cells]
        moving = [i for i, ((x, y), (tx, ty)) in enumerate(zip(cells, target)) if (x, y) != (tx, ty)]
        src = np.stack([u[:, y, x] for x, y in cells], 1)                        # (s, 9, d)
        dst = np.stack([u[:, ty, tx] for tx, ty in target], 1)
        delta = (dst[:, moving] - src[:, moving]).reshape(-1, d).mean(0)
        pred = np.clip(src + delta, 0.0, 1.0)
        dist = ((pred[:, :, None] - src[:, None]) ** 2).sum(-1)                  # (s, 9, 9)
        want = np.array([ty * GRID + tx for tx, ty in target])
        scores[name] = float((dist.argmin(-1) == want[None]).mean())
    return scores


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    np.set_printoptions(precision=2, suppress=True, linewidth=160)
    images = grid_images()
    for norm in NORMALISATIONS:
        manifold = load_manifold(args.checkpoint, kind="objects", normalisation=norm)
        if norm == NORMALISATIONS[0]:
            z = manifold._encode_raw(images).cpu().numpy().reshape(len(SHAPES), GRID, GRID, -1)
            shares = variance_shares(z)
            print(f"searchable dims: {manifold.active.tolist()} of {manifold.z_dim}")
            for key in ("variance", "x", "y", "shape", "rest"):
                print(f"  {key:<9}{shares[key]}")
        u = manifold.encode(images).cpu().numpy().reshape(len(SHAPES), GRID, GRID, -1)
        probe = shift_probe(u)
        print(f"shift probe ({norm}): " + "  ".join(f"{k} {v:.2f}" for k, v in probe.items())
              + f"  mean {np.mean(list(probe.values())):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
