"""`nar-solver traverse RUN IMAGE`: decode an image's code with each latent dimension swept."""
from __future__ import annotations

from pathlib import Path

import click

from nar_solver.cli._choices import TRAVERSE_MAX_DIMS, TRAVERSE_MAX_STEPS
from nar_solver.errors import NarError


def parse_dims(text: str | None) -> list[int] | None:
    """'0,3,5' or '0-4' or a mix ('0-2,7') -> a list of ints; None -> every dimension.

    At most TRAVERSE_MAX_DIMS of them, counted before a range is expanded: '0-99999999' is refused
    at once instead of building a list of a hundred million numbers."""
    if text is None:
        return None
    dims: list[int] = []
    too_many = NarError(f"--dims {text[:40]!r}: at most {TRAVERSE_MAX_DIMS} dimensions can be swept")
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part[1:]:
                lo, hi = part.split("-", 1) if not part.startswith("-") else (part, "")
                if int(hi) - int(lo) + 1 + len(dims) > TRAVERSE_MAX_DIMS:
                    raise too_many
                dims.extend(range(int(lo), int(hi) + 1))
            elif part:
                dims.append(int(part))
            if len(dims) > TRAVERSE_MAX_DIMS:
                raise too_many
    except ValueError:
        raise NarError(f"--dims {text[:40]!r}: expected comma-separated dimension numbers, e.g. 0,3,5 or 0-4") from None
    if not dims:
        raise NarError("--dims is empty")
    return dims


@click.command("traverse")
@click.argument("run", type=click.Path(path_type=Path))
@click.argument("image", type=click.Path(path_type=Path))
@click.option("--from", "start", type=float, default=-3.0, show_default=True, help="First swept value.")
@click.option("--to", "stop", type=float, default=3.0, show_default=True, help="Last swept value.")
@click.option("--steps", type=click.IntRange(1, TRAVERSE_MAX_STEPS), default=11, show_default=True,
              help="Values from --from to --to inclusive.")
@click.option("--dims", default=None,
              help=f"Dimensions to sweep, e.g. 0,3,5 or 0-4 (at most {TRAVERSE_MAX_DIMS})  [default: all]")
@click.option("--mode", default="offset", show_default=True,
              help="offset: add the value to the image's code; absolute: set the dimension to it.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output PNG  [default: runs/traverse-<RUN name>/traverse_<IMAGE name>.png]")
@click.option("--gif", is_flag=True,
              help="Also write an animated GIF of the sweep (every dimension at once) beside the PNG.")
@click.option("--device", default="auto", show_default=True,
              help="auto | cpu | cuda | cuda:N (auto = CUDA when available).")
def command(run, image, start, stop, steps, dims, mode, out, gif, device):
    """Decode IMAGE's code with each latent dimension of RUN swept: one row per dimension, sorted by
    its KL over training images (dead dimensions greyed), labelled with the factor it carries when
    RUN holds a probe.json; one column per value, the unperturbed reconstruction framed.

    A fine sweep: --from -0.5 --to 0.5 --steps 11 (offsets of 0.1); docs/training.md.
    """
    from nar_solver.cli._outputs import default_folder
    from nar_solver.device import resolve_device
    from nar_solver.figures import row_label, row_order, traversal_gif, traversal_grid
    from nar_solver.io import check_writable
    from nar_solver.run.checkpoint import load_model
    from nar_solver.run.dimension_names import dimension_factors
    from nar_solver.model.traversal import sweep_values, traverse
    from nar_solver.train.report import training_kl
    from nar_solver.world.formats import load_grey_png

    values = sweep_values(start, stop, steps)
    dim_list = parse_dims(dims)
    out = check_writable(out or default_folder("traverse", run) / f"traverse_{Path(image).stem}.png")
    gif_path = check_writable(out.with_suffix(".gif")) if gif else None
    resolved = resolve_device(device)
    model = load_model(run, resolved)
    picture = load_grey_png(image)
    recon, sweeps, mu = traverse(model.vae, picture, values, dim_list, mode)
    dim_list = dim_list if dim_list is not None else list(range(model.vae.z_dim))
    kl = training_kl(model, resolved)
    factors = dimension_factors(run)
    notes = [f"mu {mu[d]:+.2f}" for d in dim_list]
    traversal_grid(picture, recon, sweeps, values, dim_list, out, row_notes=notes, mode=mode,
                   title=f"{Path(run).name}: {Path(image).name}", kl=kl, factors=factors)
    click.echo(f"wrote {out}")
    if gif_path is not None:
        order = row_order(dim_list, kl)
        labelled = [row_label(dim_list[i], kl, factors) for i in order]
        traversal_gif(sweeps[order], values, [label for label, _ in labelled], gif_path,
                      dead=[is_dead for _, is_dead in labelled])
        click.echo(f"wrote {gif_path}")
