"""Every picture the tool draws: plain functions of numpy arrays that write a PNG.

Images are uint8 grey (64, 64), 255 = white, as everywhere in the project. Matplotlib runs on the
non-interactive Agg backend, so figures work on headless machines.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from nar_solver.errors import NarError, from_os_error
from nar_solver.io import make_folder

_LOSS_PANELS = (
    ("recon", "reconstruction (nats / image)"),
    ("kl", "KL to N(0, I)"),
    ("tc", "total correlation (training estimate)"),
    ("d_loss", "discriminator loss"),
    ("d_acc", "discriminator accuracy"),
    ("loss", "total VAE loss"),
)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> Path:
    """Write the figure to exactly ``path`` (PNG unless its suffix names another format matplotlib
    writes); a bad path is a one-line NarError, not a traceback."""
    path = Path(path)
    try:
        if path.is_dir():
            raise NarError("is a folder; give a file name for the figure", path)
        make_folder(path.parent)
        fig.savefig(path, dpi=110, bbox_inches="tight", format=None if path.suffix else "png")
    except OSError as err:
        raise from_os_error(err, path, "cannot write figure") from None
    except ValueError as err:  # matplotlib: "Format 'xyz' is not supported"
        raise NarError(f"cannot write a figure of this type ({' '.join(str(err).split())})", path) from None
    finally:
        _pyplot().close(fig)
    return path


def plot_losses(rows: Sequence[dict[str, Any]], path: str | Path, title: str = "") -> Path:
    """Loss curves against steps: reconstruction, KL, TC (with the Gaussian-fit TC), D loss and accuracy."""
    plt = _pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(13, 6.5))
    steps = np.array([r["step"] for r in rows], dtype=float)
    for ax, (key, label) in zip(axes.flat, _LOSS_PANELS):
        values = np.array([np.nan if r.get(key) is None else r[key] for r in rows], dtype=float)
        if np.isfinite(values).any():
            ax.plot(steps, values, lw=1.0, label=key)
            if key == "tc" and any(r.get("tc_gaussian") is not None for r in rows):
                gauss = np.array([np.nan if r.get("tc_gaussian") is None else r["tc_gaussian"] for r in rows])
                ax.plot(steps, gauss, lw=1.0, ls="--", label="Gaussian fit of batch codes")
                ax.legend(fontsize=7)
            if key == "d_acc":
                ax.axhline(0.5, color="grey", lw=0.6, ls=":")
        else:
            ax.text(0.5, 0.5, "not used in this run", ha="center", va="center", transform=ax.transAxes,
                    color="grey")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def _tile_grid(images: np.ndarray, pad: int = 2, value: int = 200) -> np.ndarray:
    """(rows, cols, h, w) uint8 -> one image with ``pad`` px separators."""
    rows, cols, h, w = images.shape
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), value, dtype=np.uint8)
    for r in range(rows):
        for c in range(cols):
            y, x = pad + r * (h + pad), pad + c * (w + pad)
            out[y:y + h, x:x + w] = images[r, c]
    return out


def reconstruction_grid(inputs: np.ndarray, reconstructions: np.ndarray, path: str | Path,
                        columns: int = 8, title: str = "") -> Path:
    """Inputs over their reconstructions: row pairs (input row, reconstruction row) of ``columns`` images."""
    n = min(len(inputs), len(reconstructions))
    columns = max(1, min(columns, n))
    blocks = -(-n // columns)
    grid = np.full((2 * blocks, columns, 64, 64), 255, dtype=np.uint8)
    for i in range(n):
        b, c = divmod(i, columns)
        grid[2 * b, c], grid[2 * b + 1, c] = inputs[i], reconstructions[i]
    plt = _pyplot()
    picture = _tile_grid(grid)
    fig, ax = plt.subplots(figsize=(columns * 0.9 + 0.8, 2 * blocks * 0.9 + 0.4))
    ax.imshow(picture, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([2 + 66 * r + 32 for r in range(2 * blocks)])
    ax.set_yticklabels(["input" if r % 2 == 0 else "recon" for r in range(2 * blocks)], fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    return _save(fig, path)


def traversal_grid(image: np.ndarray, reconstruction: np.ndarray, sweeps: np.ndarray, values: Sequence[float],
                   dims: Sequence[int], path: str | Path, row_notes: Sequence[str] | None = None,
                   title: str = "", mode: str = "offset", kl: Sequence[float] | None = None,
                   factors: dict[int, str] | None = None) -> Path:
    """Latent traversals: one row per dimension, one column per swept value.

    ``sweeps`` is uint8 (len(dims), len(values), 64, 64). The left column shows the input. The
    unperturbed reconstruction is drawn once and framed in red: in offset mode it is the column of
    offset 0 when the sweep has one, else (and in absolute mode) a "recon" column of its own.
    With ``kl`` (per latent dimension, indexed by dimension) rows are sorted by KL, largest first,
    and dimensions below :data:`nar_solver.model.traversal.DEAD_KL` are greyed and marked dead;
    ``factors`` ({dimension: name}, from a probe or metrics report) labels the rows it knows.
    """
    from matplotlib.patches import Rectangle

    from nar_solver.model.traversal import row_label, row_order, traversal_columns

    dims, values = list(dims), [float(v) for v in values]
    notes = list(row_notes) if row_notes is not None else [""] * len(dims)
    order = row_order(dims, kl)
    headings, recon_column = traversal_columns(values, mode)
    lead = len(headings) - len(values)          # input, and "recon" when no offset-0 column shows it
    rows, cols = len(dims), len(headings)
    grid = np.full((rows, cols, 64, 64), 255, dtype=np.uint8)
    dead = []
    for r, i in enumerate(order):
        grid[r, 0] = image
        if lead == 2:
            grid[r, 1] = reconstruction
        grid[r, lead:] = sweeps[i]
        is_dead = kl is not None and row_label(dims[i], kl, factors)[1]
        dead.append(is_dead)
        if is_dead:  # grey out what a dead dimension decodes: it carries nothing
            grid[r, lead:] = (0.35 * grid[r, lead:] + 0.65 * 200).astype(np.uint8)
    plt = _pyplot()
    picture = _tile_grid(grid)
    fig, ax = plt.subplots(figsize=(cols * 0.75 + 1.8, rows * 0.75 + 0.8))
    ax.imshow(picture, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ax.add_patch(Rectangle((1 + 66 * recon_column, 1), 65, 66 * rows, fill=False, edgecolor="red", lw=1.2))
    ax.set_xticks([2 + 66 * c + 32 for c in range(cols)])
    ax.set_xticklabels(headings, fontsize=7, rotation=0)
    ax.set_yticks([2 + 66 * r + 32 for r in range(rows)])
    labels = []
    for i in order:
        label = row_label(dims[i], kl, factors)[0]
        labels.append(label + (f" {notes[i]}" if notes[i] else ""))
    ax.set_yticklabels(labels, fontsize=7)
    for tick, is_dead in zip(ax.get_yticklabels(), dead):
        if is_dead:
            tick.set_color("#999999")
    sorted_note = ", rows by KL" if kl is not None else ""
    ax.set_xlabel(("offset added to the code" if mode == "offset" else "value of the dimension") + sorted_note,
                  fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return _save(fig, path)
