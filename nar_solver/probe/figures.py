"""The manifold probe's figures (docs/probe.md), drawn from a :class:`ProbeReport`.

- :func:`probe_figure`: the shape-level confusion of reconstruction identity (a), its accuracy per
  cell, and the latent-space picture of the spatial broadcast paper (Watters et al. 2019): the
  codes of one shape moved over a fine grid of positions, scattered in the x and y dimensions of
  (b), coloured by true x and, in a second panel, by true y. A disentangled model shows a regular,
  axis-aligned grid.
- :func:`reconstruction_figure`: each clean render beside its reconstruction, one row per shape.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from nar_solver.figures import _pyplot, _save
from nar_solver.world.board import GRID
from nar_solver.world.glyphs import SHAPES


def _scatter(ax, u: np.ndarray, colour: np.ndarray, steps: int, label: str, dims: tuple[int, int], fig,
             r2: float) -> None:
    grid = u.reshape(steps, steps, 2)                      # [y step, x step]
    for k in range(steps):
        ax.plot(grid[k, :, 0], grid[k, :, 1], color="0.8", lw=0.5, zorder=1)
        ax.plot(grid[:, k, 0], grid[:, k, 1], color="0.8", lw=0.5, zorder=1)
    points = ax.scatter(u[:, 0], u[:, 1], c=colour, cmap="viridis", s=14, zorder=2, vmin=0, vmax=GRID - 1)
    fig.colorbar(points, ax=ax, fraction=0.046, pad=0.04, label=f"true {label} (cells)")
    ax.set_xlabel(f"z{dims[0]} (normalised)", fontsize=8)
    ax.set_ylabel(f"z{dims[1]} (normalised)", fontsize=8)
    ax.set_title(f"(e) position grid coloured by true {label}; R^2 of {label} from z{dims[0 if label == 'x' else 1]}"
                 f" {r2:.2f}", fontsize=9)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)


def probe_figure(report, path: str | Path) -> Path:
    """Confusion (20 x 20), per-cell identity (3 x 3), and the two latent-position scatters."""
    plt = _pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(10.5, 9.5))
    confusion = np.asarray(report.identity.confusion, dtype=float)
    ax = axes[0, 0]
    image = ax.imshow(confusion / np.maximum(confusion.sum(1, keepdims=True), 1), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(SHAPES)))
    ax.set_xticklabels(SHAPES, rotation=90, fontsize=7)
    ax.set_yticks(range(len(SHAPES)))
    ax.set_yticklabels(SHAPES, fontsize=7)
    ax.set_xlabel("shape of the nearest clean render", fontsize=8)
    ax.set_ylabel("true shape", fontsize=8)
    ax.set_title(f"(a) reconstruction identity {report.identity.accuracy:.1%} "
                 f"(shape {report.identity.shape_accuracy:.1%})", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the 9 cells")

    ax = axes[0, 1]
    cells = np.asarray(report.identity.per_cell)
    ax.imshow(cells, cmap="Greens", vmin=0, vmax=1)
    for y in range(GRID):
        for x in range(GRID):
            ax.text(x, y, f"{cells[y, x]:.0%}", ha="center", va="center", fontsize=11)
    ax.set_xticks(range(GRID))
    ax.set_yticks(range(GRID))
    ax.set_xlabel("cell x (column)", fontsize=8)
    ax.set_ylabel("cell y (row)", fontsize=8)
    ax.set_title("(a) identity per cell, over the 20 shapes", fontsize=9)

    sweep, u = report.sweep, report.arrays["sweep_u"]
    dims = (sweep["x_dim"], sweep["y_dim"])
    _scatter(axes[1, 0], u, report.arrays["sweep_x"], sweep["steps"], "x", dims, fig, sweep["x_r2"])
    _scatter(axes[1, 1], u, report.arrays["sweep_y"], sweep["steps"], "y", dims, fig, sweep["y_r2"])
    fig.suptitle(f"probe of {report.run.get('path', 'a model')}; (e): a {sweep['shape']} moved over "
                 f"{sweep['steps']}x{sweep['steps']} pixel positions", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def reconstruction_figure(clean: np.ndarray, reconstructions: np.ndarray, path: str | Path) -> Path:
    """Clean renders (S * 9, 64, 64) uint8 grey and reconstructions (S * 9, 64, 64) ink in [0, 1]:
    one row per shape, each cell's render followed by its reconstruction."""
    from torchvision.utils import make_grid

    shapes = len(clean) // (GRID * GRID)
    grey_clean = torch.as_tensor(np.asarray(clean), dtype=torch.float32) / 255.0
    grey_recon = 1.0 - torch.as_tensor(np.asarray(reconstructions), dtype=torch.float32).clamp(0, 1)
    pairs = torch.stack([grey_clean, grey_recon], 1).reshape(-1, 1, 64, 64)   # render, recon, render, ...
    picture = make_grid(pairs, nrow=2 * GRID * GRID, padding=2, pad_value=0.6)[0].numpy()
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(2 * GRID * GRID * 0.55 + 1, shapes * 0.55 + 0.6))
    ax.imshow(picture, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_yticks([2 + 66 * r + 32 for r in range(shapes)])
    ax.set_yticklabels(SHAPES[:shapes], fontsize=7)
    ax.set_xticks([2 + 66 * c + 32 for c in range(2 * GRID * GRID)])
    ax.set_xticklabels([f"({c // 2 % GRID},{c // 2 // GRID}){'' if c % 2 == 0 else ' rec'}"
                        for c in range(2 * GRID * GRID)], fontsize=6, rotation=90)
    ax.set_title("clean render of each (shape, cell (x,y)) and its reconstruction", fontsize=9)
    return _save(fig, path)
