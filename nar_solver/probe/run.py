"""Run the manifold probe (docs/probe.md) on a VAE: render, encode, decode, measure, save.

    from nar_solver.probe.run import ProbeSettings, probe_checkpoint, save_probe
    report = probe_checkpoint("checkpoints/objects", ProbeSettings(seed=0))
    save_probe(report, "runs/probe-objects")      # probe.json, probe.png, probe_reconstructions.png

Only ``vae.encode`` (posterior means) and ``vae.decode`` (logits) are used, so any architecture
fits. Codes are measured in the solver's normalised coordinates (nar_solver/solve/manifold.py:
the checkpoint's ``latent_low``/``latent_high`` and its active dimensions).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from nar_solver.errors import NarError
from nar_solver.probe import measures
from nar_solver.run.checkpoint import load_model
from nar_solver.probe.images import (MAX_SAMPLES, MAX_SWEEP, canonical_at, grid_images, position_sweep,
                                     varied_images)
from nar_solver.world.board import GRID
from nar_solver.world.glyphs import SHAPES

#: Images per encoder / decoder pass (bounds memory).
MAX_BATCH = 512
#: Output files are named <stem>.json, <stem>.png, <stem>_reconstructions.png.
STEM = "probe"


@dataclass
class ProbeSettings:
    samples: int = 16          # varied renders per (shape, cell) for shape separation
    sweep: int = 21            # positions per axis of the position sweep (figure e)
    sweep_shape: str = "square"
    seed: int = 0              # the varied renders' draws
    normalisation: str = "range"   # the solver's map of codes to [0, 1]: range or quantile

    def check(self) -> "ProbeSettings":
        from nar_solver.solve.manifold import NORMALISATIONS

        if self.normalisation not in NORMALISATIONS:
            raise NarError(f"--normalisation {self.normalisation!r}: choose one of {', '.join(NORMALISATIONS)}")
        if not 2 <= self.samples <= MAX_SAMPLES:
            raise NarError(f"--samples must be in 2..{MAX_SAMPLES}, got {self.samples}")
        if not 2 <= self.sweep <= MAX_SWEEP:
            raise NarError(f"--sweep must be in 2..{MAX_SWEEP}, got {self.sweep}")
        if self.sweep_shape not in SHAPES:
            raise NarError(f"--sweep-shape {self.sweep_shape!r}: known shapes are {', '.join(SHAPES)}")
        if self.seed < 0:
            raise NarError(f"--seed must be >= 0, got {self.seed}")
        return self


@dataclass
class ProbeReport:
    """Every measure, plus the arrays the figures need (not written to JSON)."""

    run: dict
    settings: dict
    active_dims: list
    identity: measures.IdentityResult
    varied_identity: measures.VariedIdentityResult
    axes: dict                      # {"x": AxisResult, "y": AxisResult}
    shares: dict
    dimension_factors: dict
    shift: measures.ShiftResult
    separation: measures.SeparationResult
    sweep: dict
    seconds: float
    arrays: dict = field(default_factory=dict, repr=False)

    @property
    def scores(self) -> dict[str, float]:
        return {"reconstruction_identity": self.identity.accuracy,
                "varied_identity": self.varied_identity.accuracy, "x_r2": self.axes["x"].r2,
                "y_r2": self.axes["y"].r2, "shift_probe": self.shift.score,
                "shape_separation": self.separation.score}

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run, "settings": self.settings, "shapes": list(SHAPES),
            "scores": self.scores, "targets": dict(measures.TARGETS),
            "passed": {k: bool(v >= measures.TARGETS[k]) for k, v in self.scores.items()},
            "dimension_factors": self.dimension_factors, "active_dims": self.active_dims,
            "reconstruction_identity": self.identity.to_dict(),
            "varied_identity": self.varied_identity.to_dict(),
            "axes": {k: v.to_dict() for k, v in self.axes.items()},
            "variance_shares": {"dims": self.active_dims, **self.shares},
            "shift_probe": self.shift.to_dict(), "shape_separation": self.separation.to_dict(),
            "position_sweep": self.sweep, "seconds": self.seconds,
        }


@torch.inference_mode()
def encode_means(vae: torch.nn.Module, images: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 grey images (N, 64, 64) -> posterior means (N, z) on ``device``."""
    from nar_solver.model.images import to_ink

    parts = [vae.encode(to_ink(images[s:s + MAX_BATCH], device=device))[0].float()
             for s in range(0, len(images), MAX_BATCH)]
    return torch.cat(parts)


@torch.inference_mode()
def decode_probs(vae: torch.nn.Module, codes: torch.Tensor) -> np.ndarray:
    """Latent codes (N, z) -> ink probabilities (N, 64, 64), sigmoid of the decoder's logits."""
    parts = [torch.sigmoid(vae.decode(codes[s:s + MAX_BATCH]).float())[:, 0]
             for s in range(0, len(codes), MAX_BATCH)]
    return torch.cat(parts).cpu().numpy()


def ink_of_grey(grey: np.ndarray) -> np.ndarray:
    """uint8 grey (any shape) -> float32 ink in [0, 1], the scale the decoder's probabilities are on."""
    return (255 - grey.astype(np.float32)) / 255.0


def _sweep_dims(axes: dict) -> tuple[int, int]:
    """The x and y dimensions to draw: (b)'s best ones, or for y the next best if they coincide."""
    x_dim, y_dim = axes["x"].dim, axes["y"].dim
    if y_dim == x_dim:
        ranked = sorted(axes["y"].r2_per_dim.items(), key=lambda kv: -kv[1])
        y_dim = next((int(k) for k, _ in ranked if int(k) != x_dim), x_dim)
    return x_dim, y_dim


def probe_model(vae: torch.nn.Module, latent_low, latent_high, settings: ProbeSettings | None = None,
                device: str | torch.device = "cpu", run: dict | None = None,
                progress: Callable[[str], None] | None = None) -> ProbeReport:
    """Measure (a)-(e) of docs/probe.md on an object model with the given training-code range."""
    from nar_solver.model.images import to_ink
    from nar_solver.solve.manifold import LatentManifold

    settings = (settings or ProbeSettings()).check()
    note = progress or (lambda message: None)
    start = time.perf_counter()
    device = torch.device(device)
    manifold = LatentManifold(vae, latent_low, latent_high, kind="objects", device=device,
                              normalisation=settings.normalisation)
    active = [int(k) for k in manifold.active.tolist()]
    shapes = len(SHAPES)

    note("encoding the 180 clean renders")
    clean = grid_images()
    z = encode_means(manifold.vae, clean, device)
    grid_codes = manifold.normalise(z).cpu().numpy().reshape(shapes, GRID, GRID, -1)
    note("decoding them")
    recon = decode_probs(manifold.vae, z)
    identity = measures.reconstruction_identity(recon, to_ink(clean)[:, 0].numpy())

    axes = {f: measures.axis_quality(grid_codes, f, active) for f in ("x", "y")}
    shares = measures.variance_shares(grid_codes)
    names = measures.name_dimensions(shares, axes, active)
    shift = measures.shift_probe(grid_codes)

    note(f"encoding {shapes * GRID * GRID * settings.samples} varied renders")
    varied = varied_images(settings.samples, settings.seed)
    zv = encode_means(manifold.vae, varied.images, device)
    u = manifold.normalise(zv).cpu().numpy()
    note("decoding them")
    candidates = canonical_at(varied)
    varied_ident = measures.varied_identity(decode_probs(manifold.vae, zv), ink_of_grey(candidates),
                                            to_ink(clean)[:, 0].numpy(), varied.shape, varied.x, varied.y)
    del candidates
    separation = measures.shape_separation(u.reshape(shapes, GRID, GRID, settings.samples, -1))

    note("encoding the position sweep")
    sweep = position_sweep(settings.sweep_shape, settings.sweep)
    su = manifold.normalise(encode_means(manifold.vae, sweep.images, device)).cpu().numpy()
    x_dim, y_dim = _sweep_dims(axes)
    xi, yi = active.index(x_dim), active.index(y_dim)
    sweep_info = {"shape": sweep.shape, "steps": settings.sweep, "x_dim": x_dim, "y_dim": y_dim,
                  "x_r2": measures.linear_r2(su[:, xi], sweep.x), "y_r2": measures.linear_r2(su[:, yi], sweep.y)}
    arrays = {"clean": clean, "reconstructions": recon, "sweep_x": sweep.x, "sweep_y": sweep.y,
              "sweep_u": su[:, [xi, yi]]}
    return ProbeReport(
        run=run or {}, settings=asdict(settings), active_dims=active, identity=identity,
        varied_identity=varied_ident, axes=axes,
        shares=shares, dimension_factors=names, shift=shift, separation=separation, sweep=sweep_info,
        seconds=round(time.perf_counter() - start, 2), arrays=arrays)


def probe_checkpoint(run_dir: str | Path, settings: ProbeSettings | None = None,
                     device: str | torch.device = "cpu",
                     progress: Callable[[str], None] | None = None) -> ProbeReport:
    """Load a run folder with the project's loader and probe its model."""
    settings = (settings or ProbeSettings()).check()
    loaded = load_model(run_dir, device=device)
    run = {"path": str(run_dir), "step": loaded.step, "z_dim": int(loaded.vae.z_dim),
           "architecture": loaded.config.architecture, "data": loaded.config.data}
    return probe_model(loaded.vae, loaded.latent_low, loaded.latent_high, settings, device, run, progress)


def default_out(run_dir: str | Path) -> Path:
    """Where the probe of a run goes unless told: ``runs/probe-<run folder name>`` (never the run
    folder itself: shipped checkpoints stay untouched)."""
    return Path("runs") / f"probe-{Path(run_dir).resolve().name}"


def output_paths(out_dir: str | Path, stem: str = STEM) -> dict[str, Path]:
    """The files :func:`save_probe` writes: ``<stem>.json``, ``<stem>.png`` (confusion, cells,
    latent positions) and ``<stem>_reconstructions.png``."""
    out_dir = Path(out_dir)
    return {"json": out_dir / f"{stem}.json", "figure": out_dir / f"{stem}.png",
            "reconstructions": out_dir / f"{stem}_reconstructions.png"}


def save_probe(report: ProbeReport, out_dir: str | Path, stem: str = STEM, figures: bool = True) -> dict[str, Path]:
    """Write the report's JSON and (unless ``figures`` is off) its two figures into ``out_dir``;
    return the paths written."""
    from nar_solver.probe import figures as probe_figures
    from nar_solver.io import atomic_write_json, make_folder

    make_folder(out_dir)
    paths = output_paths(out_dir, stem)
    atomic_write_json(paths["json"], report.to_dict())
    if not figures:
        return {"json": paths["json"]}
    probe_figures.probe_figure(report, paths["figure"])
    probe_figures.reconstruction_figure(report.arrays["clean"], report.arrays["reconstructions"],
                                        paths["reconstructions"])
    return paths


__all__ = ["ProbeReport", "ProbeSettings", "decode_probs", "default_out", "encode_means", "output_paths",
           "probe_checkpoint", "probe_model", "save_probe"]
