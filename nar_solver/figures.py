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
from nar_solver.world.board import IMAGE_SIZE

#: A tile of a grid figure: one image and the 2-pixel separator of :func:`tile_grid`.
_CELL = IMAGE_SIZE + 2

_LOSS_PANELS = (
    ("recon", "reconstruction (nats / image)"),
    ("kl", "KL to N(0, I)"),
    ("tc", "total correlation (training estimate)"),
    ("d_loss", "discriminator loss"),
    ("d_acc", "discriminator accuracy"),
    ("loss", "total VAE loss"),
)


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend (no display needed); imported on first use."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str | Path) -> Path:
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
        pyplot().close(fig)
    return path


def plot_losses(rows: Sequence[dict[str, Any]], path: str | Path, title: str = "") -> Path:
    """Loss curves against steps: reconstruction, KL, TC (with the Gaussian-fit TC), D loss and accuracy."""
    plt = pyplot()
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
    return save_figure(fig, path)


def tile_grid(images: np.ndarray, pad: int = 2, value: int = 200) -> np.ndarray:
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
    grid = np.full((2 * blocks, columns, IMAGE_SIZE, IMAGE_SIZE), 255, dtype=np.uint8)
    for i in range(n):
        b, c = divmod(i, columns)
        grid[2 * b, c], grid[2 * b + 1, c] = inputs[i], reconstructions[i]
    plt = pyplot()
    picture = tile_grid(grid)
    fig, ax = plt.subplots(figsize=(columns * 0.9 + 0.8, 2 * blocks * 0.9 + 0.4))
    ax.imshow(picture, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([2 + _CELL * r + IMAGE_SIZE // 2 for r in range(2 * blocks)])
    ax.set_yticklabels(["input" if r % 2 == 0 else "recon" for r in range(2 * blocks)], fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    return save_figure(fig, path)


#: A dimension whose mean KL to the prior (nats, over training images) is below this carries no
#: information: the encoder ignores the input there (a "dead" or collapsed dimension).
DEAD_KL = 0.1
def row_order(dims: Sequence[int], kl: Sequence[float] | None) -> list[int]:
    """Indices into ``dims``: by KL of their dimension, largest first (stable), or as given."""
    if kl is None:
        return list(range(len(dims)))
    return sorted(range(len(dims)), key=lambda i: -float(kl[dims[i]]))


def row_label(dim: int, kl: Sequence[float] | None, factors: dict[int, str] | None) -> tuple[str, bool]:
    """('z3 x  KL 2.31', dead?) for one traversal row: the dimension, the factor it carries when
    known, its KL and whether it is dead (KL below :data:`DEAD_KL`)."""
    name = f"z{dim}"
    factor = (factors or {}).get(int(dim))
    if factor:
        name += f" {factor}"
    if kl is None:
        return name, False
    value = float(kl[dim])
    dead = value < DEAD_KL
    return f"{name}  KL {value:.2f}" + (" dead" if dead else ""), dead


def traversal_columns(values: Sequence[float], mode: str = "offset") -> tuple[list[str], int]:
    """Column headings of a traversal figure and the index of the column that shows the unperturbed
    reconstruction. It is drawn once: in offset mode the column of offset 0 when the sweep has
    one, else (and in absolute mode) a "recon" column of its own after the input."""
    values = [float(v) for v in values]
    zero = [i for i, v in enumerate(values) if abs(v) < 1e-9] if mode == "offset" else []
    sign = "+" if mode == "offset" else ""
    swept = [("0 (recon)" if zero and i == zero[0] else f"{sign}{v:g}" if v > 0 else f"{v:g}")
             for i, v in enumerate(values)]
    if zero:
        return ["input"] + swept, 1 + zero[0]
    return ["input", "recon"] + swept, 1


def traversal_grid(image: np.ndarray, reconstruction: np.ndarray, sweeps: np.ndarray, values: Sequence[float],
                   dims: Sequence[int], path: str | Path, row_notes: Sequence[str] | None = None,
                   title: str = "", mode: str = "offset", kl: Sequence[float] | None = None,
                   factors: dict[int, str] | None = None) -> Path:
    """Latent traversals: one row per dimension, one column per swept value.

    ``sweeps`` is uint8 (len(dims), len(values), 64, 64). The left column shows the input. The
    unperturbed reconstruction is drawn once and framed in red: in offset mode it is the column of
    offset 0 when the sweep has one, else (and in absolute mode) a "recon" column of its own.
    With ``kl`` (per latent dimension, indexed by dimension) rows are sorted by KL, largest first,
    and dimensions below :data:`DEAD_KL` are greyed and marked dead;
    ``factors`` ({dimension: name}, from a probe or metrics report) labels the rows it knows.
    """
    from matplotlib.patches import Rectangle

    dims, values = list(dims), [float(v) for v in values]
    notes = list(row_notes) if row_notes is not None else [""] * len(dims)
    order = row_order(dims, kl)
    headings, recon_column = traversal_columns(values, mode)
    lead = len(headings) - len(values)          # input, and "recon" when no offset-0 column shows it
    rows, cols = len(dims), len(headings)
    grid = np.full((rows, cols, IMAGE_SIZE, IMAGE_SIZE), 255, dtype=np.uint8)
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
    plt = pyplot()
    picture = tile_grid(grid)
    fig, ax = plt.subplots(figsize=(cols * 0.75 + 1.8, rows * 0.75 + 0.8))
    ax.imshow(picture, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ax.add_patch(Rectangle((1 + _CELL * recon_column, 1), _CELL - 1, _CELL * rows, fill=False, edgecolor="red",
                           lw=1.2))
    ax.set_xticks([2 + _CELL * c + IMAGE_SIZE // 2 for c in range(cols)])
    ax.set_xticklabels(headings, fontsize=7, rotation=0)
    ax.set_yticks([2 + _CELL * r + IMAGE_SIZE // 2 for r in range(rows)])
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
    return save_figure(fig, path)


# -- animated traversals (GIF, Pillow) ------------------------------------------------------------
# Every dimension's sweep played at once, the figure researchers in this field share most: frame k
# shows each dimension's decoding at the k-th swept value; the frames run from the first value to
# the last and back, so the loop has no jump.

#: Pixels per image pixel in the GIF (decodings scaled up, nearest neighbour).
GIF_SCALE = 2
#: The GIF's bands, in pixels: the header that shows the swept value (a rule under it), and each
#: row's label above its tile. The default PIL font is 11 px tall: each band leaves it a margin.
GIF_HEADER_H = 20
GIF_LABEL_H = 16


def traversal_gif(sweeps: np.ndarray, values: Sequence[float], labels: Sequence[str], path: str | Path,
                  columns: int = 5, frame_ms: int = 120, dead: Sequence[bool] | None = None) -> Path:
    """Write ``sweeps`` (rows, len(values), 64, 64) uint8 as an animated GIF; ``labels`` per row;
    rows marked ``dead`` are drawn faded. Returns the path."""
    from PIL import Image, ImageDraw

    sweeps = np.asarray(sweeps)
    rows, steps = sweeps.shape[:2]
    if rows == 0 or steps == 0:
        raise NarError("nothing to animate (no dimension or no value)")
    columns = max(1, min(columns, rows))
    grid_rows = -(-rows // columns)
    tile = IMAGE_SIZE * GIF_SCALE
    width, height = columns * tile, GIF_HEADER_H + grid_rows * (tile + GIF_LABEL_H)
    order = list(range(steps)) + list(range(steps - 2, 0, -1))
    frames = []
    for k in order:
        frame = Image.new("L", (width, height), 255)
        draw = ImageDraw.Draw(frame)
        draw.text((2, 3), f"value {values[k]:+g}", fill=0)
        draw.line([(0, GIF_HEADER_H - 2), (width, GIF_HEADER_H - 2)], fill=160)
        for r in range(rows):
            img = sweeps[r, k]
            if dead is not None and dead[r]:
                img = (0.35 * img + 0.65 * 200).astype(np.uint8)
            y, x = divmod(r, columns)
            top = GIF_HEADER_H + y * (tile + GIF_LABEL_H)
            frame.paste(Image.fromarray(img).resize((tile, tile), Image.NEAREST), (x * tile, top + GIF_LABEL_H))
            draw.text((x * tile + 2, top + 2), labels[r], fill=120 if dead is not None and dead[r] else 0)
        frames.append(frame.convert("P"))
    path = Path(path)
    if path.is_dir():
        raise NarError("is a folder; give a file name for the animation", path)
    make_folder(path.parent)
    try:
        frames[0].save(path, format="GIF", save_all=True, append_images=frames[1:], duration=frame_ms, loop=0)
    except OSError as err:
        raise from_os_error(err, path, "cannot write animation") from None
    return path
