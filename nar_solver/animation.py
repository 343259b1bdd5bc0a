"""Animated latent traversals (GIF, Pillow): every dimension's sweep played at once, the figure
researchers in this field share most.

Frame k shows, in a grid of tiles, each dimension's decoding at the k-th swept value; the frames run
from the first value to the last and back, so the loop has no jump. Each tile is labelled with its
dimension (and the factor it carries when known) and the frame with its value.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from nar_solver.errors import NarError, from_os_error
from nar_solver.io import make_folder

#: Pixels per image in the GIF (64 px decodings scaled up, nearest neighbour).
SCALE = 2
_LABEL_H = 12


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
    tile = 64 * SCALE
    width, height = columns * tile, grid_rows * (tile + _LABEL_H) + _LABEL_H
    order = list(range(steps)) + list(range(steps - 2, 0, -1))
    frames = []
    for k in order:
        frame = Image.new("L", (width, height), 255)
        draw = ImageDraw.Draw(frame)
        draw.text((2, 0), f"value {values[k]:+g}", fill=0)
        for r in range(rows):
            img = sweeps[r, k]
            if dead is not None and dead[r]:
                img = (0.35 * img + 0.65 * 200).astype(np.uint8)
            y, x = divmod(r, columns)
            top = _LABEL_H + y * (tile + _LABEL_H)
            frame.paste(Image.fromarray(img).resize((tile, tile), Image.NEAREST), (x * tile, top + _LABEL_H))
            draw.text((x * tile + 2, top), labels[r], fill=120 if dead is not None and dead[r] else 0)
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
