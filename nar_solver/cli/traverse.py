"""`nar-solver traverse RUN IMAGE`: decode an image's code with each latent dimension swept."""
from __future__ import annotations

from pathlib import Path

import click

from nar_solver.errors import NarError


def parse_dims(text: str | None) -> list[int] | None:
    """'0,3,5' or '0-4' or a mix ('0-2,7') -> a list of ints; None -> every dimension."""
    if text is None:
        return None
    dims: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part[1:]:
                lo, hi = part.split("-", 1) if not part.startswith("-") else (part, "")
                dims.extend(range(int(lo), int(hi) + 1))
            elif part:
                dims.append(int(part))
    except ValueError:
        raise NarError(f"--dims {text!r}: expected comma-separated dimension numbers, e.g. 0,3,5 or 0-4") from None
    if not dims:
        raise NarError("--dims is empty")
    return dims


@click.command("traverse")
@click.argument("run", type=click.Path(path_type=Path))
@click.argument("image", type=click.Path(path_type=Path))
@click.option("--from", "start", type=float, default=-3.0, show_default=True, help="First swept value.")
@click.option("--to", "stop", type=float, default=3.0, show_default=True, help="Last swept value.")
@click.option("--steps", type=int, default=11, show_default=True, help="Values from --from to --to inclusive.")
@click.option("--dims", default=None, help="Dimensions to sweep, e.g. 0,3,5 or 0-4 (default: all).")
@click.option("--mode", default="offset", show_default=True,
              help="offset: add the value to the image's code; absolute: set the dimension to it.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output PNG (default RUN/figures/traverse_<image>.png).")
@click.option("--device", default="auto", show_default=True,
              help="auto | cpu | cuda | cuda:N (auto = CUDA when available).")
def command(run, image, start, stop, steps, dims, mode, out, device):
    """One row per latent dimension, one column per value; the unperturbed reconstruction is framed.

    The seed study's sweep is --from -0.5 --to 0.5 --steps 11 (offsets of 0.1).
    """
    from rich.console import Console

    from nar_solver.device import resolve_device
    from nar_solver.figures import traversal_grid
    from nar_solver.io import check_writable
    from nar_solver.run.checkpoint import load_model
    from nar_solver.model.traversal import sweep_values, traverse
    from nar_solver.world.formats import load_grey_png

    values = sweep_values(start, stop, steps)
    dim_list = parse_dims(dims)
    model = load_model(run, resolve_device(device))
    picture = load_grey_png(image)
    recon, sweeps, mu = traverse(model.vae, picture, values, dim_list, mode)
    dim_list = dim_list if dim_list is not None else list(range(model.vae.z_dim))
    notes = [f"mu {mu[d]:+.2f}" for d in dim_list]
    out = check_writable(out or Path(run) / "figures" / f"traverse_{Path(image).stem}.png")
    traversal_grid(picture, recon, sweeps, values, dim_list, out, row_notes=notes, mode=mode,
                   title=f"{Path(run).name}: {Path(image).name}")
    Console().print(f"wrote {out}")
